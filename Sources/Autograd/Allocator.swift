import CAllocator

/// Tunes glibc's allocator for training loops: every step allocates and frees the same large
/// activation buffers, and by default glibc serves those with fresh `mmap`s or returns freed heap
/// to the kernel, so each step pays page faults and page clearing (≈ 15 % of a transformer step,
/// measured with perf). Keeping them in the heap makes the buffers reusable. Call once at start-up.
public enum Allocator {
    public static func configureForTraining() {
        policylab_configure_allocator()
    }
}
