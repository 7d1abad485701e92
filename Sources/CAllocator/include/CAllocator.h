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

/// A prefetch hint for the cache line holding `address` (reads, kept in every level): data the next few
/// microseconds of a kernel will read with a stride the hardware prefetcher does not follow.
static inline void policylab_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Gives the core away (sched_yield): a waiter that has spun for a while lets a descheduled partner
/// run when the machine has more runnable threads than cores.
void policylab_yield(void);

/// The CPU's brand string (CPUID 0x80000002–4) into `out` (at least 49 bytes), or "" off x86.
void policylab_cpu_brand(char *out, int size);

/// family · 256 + model (CPUID leaf 1, with the extended fields), or −1 off x86.
int policylab_cpu_family_model(void);

/// Vector instruction sets the CPU has and the OS enables (its registers saved on a context switch):
/// an OR of the POLICYLAB_CPU_* bits.
#define POLICYLAB_CPU_FMA 1
#define POLICYLAB_CPU_AVX2 2
#define POLICYLAB_CPU_AVX512F 4
int policylab_cpu_features(void);

#endif
