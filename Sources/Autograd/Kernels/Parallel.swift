import CAllocator
import Dispatch
import Foundation
import Synchronization

/// Wraps a value (typically raw pointers into buffers owned by the caller) so that it can be
/// captured by the worker closures of `parallelChunks` and `CPUKernels.split`. The caller guarantees that workers touch
/// disjoint memory and that the buffers outlive the call.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// How many threads kernels may use: the machine's cores, at most 2 here (PLATFORM.md).
let kernelThreads = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))

/// Splits `0..<count` into two contiguous chunks (multiples of `granularity`) and runs the second on
/// the kernel worker thread while the caller runs the first, when `work` (a rough flop count) is large
/// enough to pay for the hand-off; otherwise runs inline.
///
/// Why a worker of our own: `DispatchQueue.concurrentPerform` wakes a pool thread through the kernel
/// for every call, and at this project's sizes (a 960×192×64 product takes ≈ 100 µs on one core) two
/// threads were no faster than one (measured). The worker spins briefly between jobs, so a hand-off
/// costs about a cache-line round trip, and sleeps when idle.
@inline(__always)
func parallelChunks(
    count: Int, granularity: Int = 1, work: Int, threshold: Int = 1 << 19, _ body: @Sendable (Range<Int>) -> Void
) {
    guard work >= threshold, count >= 2 * granularity, let worker = KernelWorker.shared else {
        body(0..<count)
        return
    }
    let units = (count + granularity - 1) / granularity
    let split = min(count, (units + 1) / 2 * granularity)
    withoutActuallyEscaping(body) { escapable in
        let ran = worker.run({ escapable(split..<count) }, alongside: { escapable(0..<split) })
        if !ran { escapable(split..<count) }
    }
}

/// One extra thread for the numeric kernels. `run` hands it a job and runs another on the caller;
/// one caller at a time (a second concurrent caller, or a kernel nested inside a job, runs inline).
final class KernelWorker: @unchecked Sendable {
    static let shared: KernelWorker? = kernelThreads >= 2 ? KernelWorker() : nil

    /// Job tickets: `posted` counts jobs handed over, `finished` the last one completed.
    private let posted = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// Written by the poster before `posted` is incremented (release) and read by the worker after it
    /// sees the increment (acquire).
    private var job: (() -> Void)?

    /// Spins before sleeping when idle: about 0.3 ms, longer than the gaps between kernels in a step.
    private let spinsBeforeSleeping = 20_000

    /// One wait of a spin loop: a pause, or past ~50 µs (2,000 spins) a yield, since the other thread is
    /// then probably not running (more runnable threads than cores).
    @inline(__always)
    private static func backOff(_ spins: Int) {
        if spins > 2_000 { policylab_yield() } else { policylab_spin_pause() }
    }

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "policylab-kernels"
        thread.start()
    }

    private func loop() {
        var seen = 0
        while true {
            var spins = 0
            while posted.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinsBeforeSleeping {
                    Self.backOff(spins)
                    continue
                }
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if posted.load(ordering: .sequentiallyConsistent) != seen {
                    // Work arrived meanwhile; if the poster already took the flag it also signalled: consume it.
                    if !sleeping.exchange(false, ordering: .sequentiallyConsistent) { wake.wait() }
                    break
                }
                wake.wait()
                spins = 0
            }
            seen = posted.load(ordering: .acquiring)
            job?()
            finished.store(seen, ordering: .releasing)
        }
    }

    /// Runs `job` on the worker and `local` on the caller; returns when both are done. Returns false
    /// (having run only `local`) when the worker is taken by another caller.
    func run(_ job: @escaping () -> Void, alongside local: () -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            local()
            return false
        }
        self.job = job
        let ticket = posted.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }
        local()
        var spins = 0
        while finished.load(ordering: .acquiring) != ticket {
            spins += 1
            Self.backOff(spins)
        }
        self.job = nil
        busy.store(false, ordering: .releasing)
        return true
    }
}
