// OpenSSL's libcrypto (Debian: libssl-dev), for the SHA-256 of model files.
#include <openssl/evp.h>
