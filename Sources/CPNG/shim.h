// libpng's API (Debian: libpng-dev).
#include <png.h>
