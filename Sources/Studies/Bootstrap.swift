// Percentile bootstrap over seeds (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, §13.3):
// resample the per-seed values with replacement, take the statistic of each resample, and read the
// interval off the resampled statistics' percentiles. Percentiles interpolate linearly between order
// statistics, as numpy's default (`np.percentile(..., method="linear")`), so a large-B numpy computation on
// the same numbers is the reference the tests compare with.
import Randomness

/// A confidence interval `[lower, upper]` at `level` (0.95 for a 95 % interval).
public struct ConfidenceInterval: Equatable, Sendable, Codable {
    public var lower: Double
    public var upper: Double
    public var level: Double

    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// Whether 0 lies outside the interval (a difference whose sign the seeds agree on).
    public var excludesZero: Bool { lower > 0 || upper < 0 }
}

/// The percentile bootstrap with a fixed seed, so that the same per-seed values always give the same interval.
public struct Bootstrap: Sendable {
    /// B, the number of resamples. 10 000 puts the Monte-Carlo error of a 95 % endpoint well below the
    /// seed-to-seed spread it measures.
    public var resamples: Int
    /// The seed of the resampling stream; fixed so that `study show` prints the same figures every time.
    public var seed: UInt64
    /// The interval's coverage, 0.95 for 95 %.
    public var level: Double

    public init(resamples: Int = 10_000, seed: UInt64 = 20_261_202, level: Double = 0.95) {
        precondition(resamples > 0 && level > 0 && level < 1, "bootstrap needs B > 0 and 0 < level < 1")
        self.resamples = resamples
        self.seed = seed
        self.level = level
    }

    /// Interval of the mean of `values`; nil with fewer than two values (one seed says nothing about spread).
    public func meanInterval(_ values: [Double]) -> ConfidenceInterval? {
        guard values.count >= 2 else { return nil }
        var generator = SeededGenerator(seed: seed)
        let means = (0..<resamples).map { _ in Self.resampledMean(values, using: &generator) }
        return interval(means)
    }

    /// Interval of `mean(first) − mean(second)`, each resampled on its own (the seeds of two configurations
    /// are independent draws); nil unless both have at least two values.
    public func differenceInterval(_ first: [Double], _ second: [Double]) -> ConfidenceInterval? {
        guard first.count >= 2, second.count >= 2 else { return nil }
        var generator = SeededGenerator(seed: seed)
        let differences = (0..<resamples).map { _ in
            let a = Self.resampledMean(first, using: &generator)
            return a - Self.resampledMean(second, using: &generator)
        }
        return interval(differences)
    }

    private func interval(_ statistics: [Double]) -> ConfidenceInterval {
        let sorted = statistics.sorted()
        let tail = (1 - level) / 2
        return ConfidenceInterval(
            lower: Self.percentile(sorted: sorted, tail), upper: Self.percentile(sorted: sorted, 1 - tail),
            level: level)
    }

    /// Mean of n draws with replacement from `values`.
    static func resampledMean(_ values: [Double], using generator: inout SeededGenerator) -> Double {
        var sum = 0.0
        for _ in values.indices { sum += values[Int.random(in: 0..<values.count, using: &generator)] }
        return sum / Double(values.count)
    }

    /// The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly between order statistics
    /// at position (n − 1)·q, as numpy's default.
    public static func percentile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "percentile of no values")
        let position = Double(sorted.count - 1) * q
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + fraction * (sorted[above] - sorted[below])
    }
}
