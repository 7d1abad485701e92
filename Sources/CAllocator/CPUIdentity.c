// The CPU a process runs on, for `policylab bench`'s record of where a figure was measured: the brand string,
// family and model, and which vector instruction sets the CPU and the OS enable (CPUID, XGETBV). Hypervisors
// often shorten the brand ("AMD EPYC"); the family and model tell a Zen 3 (25, 1) from a Zen 4 (25, 17).
#include "CAllocator.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

void policylab_cpu_brand(char *out, int size) {
    if (size <= 0) return;
    out[0] = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned int regs[12];
    if (__get_cpuid_max(0x80000000u, 0) < 0x80000004u || size < 49) return;
    for (unsigned int i = 0; i < 3; i++) {
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    }
    memcpy(out, regs, 48);
    out[48] = 0;
#endif
}

int policylab_cpu_family_model(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return -1;
    unsigned int family = (eax >> 8) & 0xF, model = (eax >> 4) & 0xF;
    if (family == 0xF) family += (eax >> 20) & 0xFF;
    if (family == 0x6 || family >= 0xF) model |= ((eax >> 16) & 0xF) << 4;
    return (int)(family * 256 + model);
#else
    return -1;
#endif
}

int policylab_cpu_features(void) {
    int features = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int osxsave = (ecx >> 27) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave) return 0;
    unsigned long long xcr0 = read_xcr0();
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xE6) == 0xE6;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    if (ymm && fma) features |= POLICYLAB_CPU_FMA;
    if (ymm && ((ebx >> 5) & 1)) features |= POLICYLAB_CPU_AVX2;
    if (zmm && ((ebx >> 16) & 1)) features |= POLICYLAB_CPU_AVX512F;
#endif
    return features;
}
