// zlib's API (Debian: zlib1g-dev), for gzip-compressed datasets.
#include <zlib.h>
