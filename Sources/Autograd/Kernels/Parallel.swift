import Dispatch

/// Wraps a value (typically raw pointers into buffers owned by the caller) so that it can be
/// captured by the worker closures of `parallelChunks`. The caller guarantees that workers touch
/// disjoint memory and that the buffers outlive the call.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// How many threads kernels may use: the machine's cores, at most 2 here (PLATFORM.md).
let kernelThreads = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))

import Foundation

/// Splits `0..<count` into contiguous chunks (multiples of `granularity`) and runs them on up to
/// `kernelThreads` threads when `work` (a rough flop count) is large enough to pay for the hand-off;
/// otherwise runs inline. Two threads only pay for products of roughly 256³ and up (PLATFORM.md),
/// and for elementwise work of a few hundred thousand elements.
@inline(__always)
func parallelChunks(count: Int, granularity: Int = 1, work: Int, threshold: Int = 1 << 21, _ body: @Sendable (Range<Int>) -> Void) {
    let threads = kernelThreads
    if threads < 2 || work < threshold || count < 2 * granularity {
        body(0..<count)
        return
    }
    let units = (count + granularity - 1) / granularity
    let perThread = (units + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let start = min(count, t * perThread * granularity)
        let end = min(count, (t + 1) * perThread * granularity)
        if start < end { body(start..<end) }
    }
}
