#ifndef SALIENCYD_PREFETCH_H
#define SALIENCYD_PREFETCH_H

/* Software prefetch for the engine's vector loops, which Swift cannot spell itself.
 * A hint only: it never faults, even on an address outside any mapping. */

/* The cache line holding `address` towards L2 (x86: prefetcht1), to be read soon. */
static inline __attribute__((always_inline)) void saliencyd_prefetch_l2(const void *address) {
    __builtin_prefetch(address, 0, 2);
}

/* The cache line holding `address` towards L1 (x86: prefetcht0), to be read soon. */
static inline __attribute__((always_inline)) void saliencyd_prefetch_l1(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/* The cache line holding `address`, to be written soon (x86: prefetchw). */
static inline __attribute__((always_inline)) void saliencyd_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
