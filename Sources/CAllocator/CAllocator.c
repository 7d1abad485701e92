#include "CAllocator.h"
#include <sched.h>
#if defined(__linux__)
#include <malloc.h>
#endif

void policylab_configure_allocator(void) {
#if defined(__linux__)
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    mallopt(M_TOP_PAD, 256 * 1024 * 1024);
#endif
}

void policylab_yield(void) {
    sched_yield();
}
