#ifndef POLICYLAB_CALLOCATOR_H
#define POLICYLAB_CALLOCATOR_H

/// Keeps large freed blocks in glibc's heap (no mmap per allocation, no trimming), so training
/// steps reuse activation buffers instead of faulting fresh pages in. No-op off glibc.
void policylab_configure_allocator(void);

/// A spin-wait hint (x86 `pause`): kernel threads waiting a few microseconds for each other.
static inline void policylab_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Gives the core away (sched_yield): a waiter that has spun for a while lets a descheduled partner
/// run when the machine has more runnable threads than cores.
void policylab_yield(void);

#endif
