import Foundation

/// Running mean and variance over batches (Chan et al.'s parallel update), as Gymnasium's
/// `RunningMeanStd`, for observation and return normalisation.
public struct RunningMeanStandardDeviation: Codable, Sendable, Equatable {
    public var mean: [Double]
    public var variance: [Double]
    public var count: Double

    public init(dimension: Int) {
        mean = [Double](repeating: 0, count: dimension)
        variance = [Double](repeating: 1, count: dimension)
        count = 1e-4
    }

    /// Folds in a batch of rows (rows × dimension, row-major).
    public mutating func update(_ batch: [Double], rows: Int) {
        let d = mean.count
        guard rows > 0 else { return }
        var batchMean = [Double](repeating: 0, count: d), batchVariance = batchMean
        for r in 0..<rows { for j in 0..<d { batchMean[j] += batch[r * d + j] / Double(rows) } }
        for r in 0..<rows {
            for j in 0..<d { let x = batch[r * d + j] - batchMean[j]; batchVariance[j] += x * x / Double(rows) }
        }
        let total = count + Double(rows)
        for j in 0..<d {
            let delta = batchMean[j] - mean[j]
            let newMean = mean[j] + delta * Double(rows) / total
            let m2 =
                variance[j] * count + batchVariance[j] * Double(rows) + delta * delta * count * Double(rows) / total
            mean[j] = newMean
            variance[j] = m2 / total
        }
        count = total
    }
}

/// Gymnasium's `NormalizeObservation` followed by CleanRL's clip to ±10.
public struct ObservationNormalizer: Codable, Sendable, Equatable {
    public var statistics: RunningMeanStandardDeviation
    public var clip: Double = 10
    public var frozen = false

    public init(dimension: Int) { statistics = RunningMeanStandardDeviation(dimension: dimension) }

    /// Updates the statistics (unless frozen) and returns the normalised rows.
    public mutating func callAsFunction(_ observations: [Float], rows: Int) -> [Float] {
        if !frozen { statistics.update(observations.map(Double.init), rows: rows) }
        let d = statistics.mean.count
        var out = observations
        for r in 0..<rows {
            for j in 0..<d {
                let z =
                    (Double(observations[r * d + j]) - statistics.mean[j])
                    / (statistics.variance[j] + 1e-8).squareRoot()
                out[r * d + j] = Float(min(max(z, -clip), clip))
            }
        }
        return out
    }

    /// The normalised rows with the statistics left as they are (final observations are not new data).
    public func normalizedKeepingStatistics(_ observations: [Float], rows: Int) -> [Float] {
        var copy = self
        copy.frozen = true
        return copy(observations, rows: rows)
    }
}

/// Gymnasium's `NormalizeReward`: rewards divided by the running std of the discounted return, clipped to ±10.
public struct RewardNormalizer: Codable, Sendable, Equatable {
    public var statistics = RunningMeanStandardDeviation(dimension: 1)
    public var returns: [Double]
    public var gamma: Double
    public var clip: Double = 10

    public init(environments: Int, gamma: Double) {
        returns = [Double](repeating: 0, count: environments)
        self.gamma = gamma
    }

    public mutating func callAsFunction(_ rewards: [Double], terminated: [Bool]) -> [Double] {
        for i in 0..<rewards.count { returns[i] = returns[i] * gamma * (terminated[i] ? 0 : 1) + rewards[i] }
        statistics.update(returns, rows: returns.count)
        let scale = (statistics.variance[0] + 1e-8).squareRoot()
        return rewards.map { min(max($0 / scale, -clip), clip) }
    }
}
