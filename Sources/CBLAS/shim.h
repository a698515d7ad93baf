// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, include dir from pkg-config `openblas`).
#include <cblas.h>
