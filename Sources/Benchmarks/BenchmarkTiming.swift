import Foundation

/// Wall-clock timing on `ContinuousClock` (monotonic, unaffected by clock adjustments).
public enum BenchmarkTiming {
    /// `POLICYLAB_BENCH_CALLS=N` (N > 0): every round of a figure timed per call runs exactly N calls instead of
    /// lasting a minimum time. Fixed work, for reading `perf stat`'s task-clock (or a `perf record` profile) per
    /// call on a busy machine, where wall-clock figures mean little; the figure printed is still calls over seconds.
    static let fixedCallsPerRound: Int? = ProcessInfo.processInfo.environment["POLICYLAB_BENCH_CALLS"]
        .flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) * 1e-18
    }

    /// Seconds elapsed while running `body`.
    public static func time(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return seconds(start.duration(to: clock.now))
    }

    /// Seconds per call of `body` in each of `rounds` rounds that together last at least
    /// `minimumSeconds` (after one warm-up call).
    static func secondsPerCall(rounds: Int, minimumSeconds: Double, _ body: () -> Void) -> [Double] {
        body()
        let clock = ContinuousClock()
        let roundSeconds = minimumSeconds / Double(rounds)
        var perCall: [Double] = []
        for _ in 0..<rounds {
            var calls = 0
            let start = clock.now
            var elapsed = 0.0
            repeat {
                body()
                calls += 1
                elapsed = seconds(start.duration(to: clock.now))
            } while fixedCallsPerRound.map { calls < $0 } ?? (elapsed < roundSeconds)
            perCall.append(elapsed / Double(calls))
        }
        return perCall
    }

    /// The median seconds per call over `rounds` rounds of at least `minimumSeconds` in all.
    public static func medianSeconds(rounds: Int = 5, minimumSeconds: Double, _ body: () -> Void) -> Double {
        let perCall = secondsPerCall(rounds: rounds, minimumSeconds: minimumSeconds, body).sorted()
        return perCall[perCall.count / 2]
    }

    /// Seconds per call, the fastest of many short rounds: robust to the noise of a shared VM, for
    /// comparing kernels with each other (not with wall-clock anchors).
    public static func bestSeconds(rounds: Int = 30, minimumSeconds: Double, _ body: () -> Void) -> Double {
        secondsPerCall(rounds: rounds, minimumSeconds: minimumSeconds, body).min() ?? .nan
    }
}
