// Per-configuration statistics over seeds and pairwise differences: what `study show` prints.

/// Mean, sample standard deviation and bootstrap interval of one metric over the seeds of one configuration.
public struct SeedSummary: Equatable, Sendable, Codable {
    /// n, the number of seeds that logged the metric.
    public var count: Int
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator, numpy's `ddof=1`); nil for one seed.
    public var standardDeviation: Double?
    /// Percentile bootstrap interval of the mean; nil for one seed.
    public var interval: ConfidenceInterval?

    /// nil when `values` is empty: a metric no run logged has no summary (printed as "—", never 0).
    public init?(_ values: [Double], bootstrap: Bootstrap = Bootstrap()) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        if values.count >= 2 {
            let mean = self.mean
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = (squares / Double(values.count - 1)).squareRoot()
        }
        interval = bootstrap.meanInterval(values)
    }
}

/// `mean(first) − mean(second)` of one metric with its bootstrap interval.
public struct MeanDifference: Equatable, Sendable, Codable {
    public var difference: Double
    /// nil unless both configurations have at least two seeds.
    public var interval: ConfidenceInterval?

    /// Whether the interval excludes 0: the seeds agree on which configuration is ahead (at the interval's
    /// level). Always false without an interval.
    public var excludesZero: Bool { interval?.excludesZero ?? false }

    /// nil when either side is empty.
    public init?(_ first: [Double], _ second: [Double], bootstrap: Bootstrap = Bootstrap()) {
        guard !first.isEmpty, !second.isEmpty else { return nil }
        difference = first.reduce(0, +) / Double(first.count) - second.reduce(0, +) / Double(second.count)
        interval = bootstrap.differenceInterval(first, second)
    }
}
