#ifndef POLICYLAB_CALLOCATOR_H
#define POLICYLAB_CALLOCATOR_H

/// Keeps large freed blocks in glibc's heap (no mmap per allocation, no trimming), so training
/// steps reuse activation buffers instead of faulting fresh pages in. No-op off glibc.
void policylab_configure_allocator(void);

#endif
