import Foundation

/// REINFORCE Leave-One-Out (Kool et al. 2019; Ahmadian et al. 2024) as TRL 1.16's `RLOOTrainer`:
/// a sequence-level k1 KL in the reward, a leave-one-out baseline, and a clipped sequence-level ratio.
public struct RLOOConfig: Codable, Sendable, Equatable {
    /// k: completions per prompt.
    public var groupSize = 8
    /// β: weight of the sequence KL penalty in the reward (TRL default 0.05).
    public var beta = 0.05
    public var epsilonLow = 0.2
    public var epsilonHigh: Double?
    /// Whiten advantages over the batch.
    public var normalizeAdvantages = false
    /// Clamp rewards to this range first.
    public var rewardClipRange: ClosedRange<Double>?

    public init() {}

    public func validate(batchRows: Int? = nil) throws {
        guard groupSize >= 2 else {
            throw ObjectiveConfigurationError(
                "group size k = \(groupSize) is below 2, so the leave-one-out baseline is undefined",
                fix: "use 2 or more completions per prompt")
        }
        if let batchRows, batchRows % groupSize != 0 {
            throw ObjectiveConfigurationError(
                "a batch of \(batchRows) completions is not divisible by k = \(groupSize)",
                fix: "make the batch a multiple of k")
        }
        guard beta >= 0 else { throw ObjectiveConfigurationError("β = \(beta) is negative", fix: "use β ≥ 0") }
        guard epsilonLow > 0 && (epsilonHigh ?? epsilonLow) > 0 else {
            throw ObjectiveConfigurationError("ε must be > 0", fix: "use e.g. 0.2")
        }
    }
}

public struct RLOOAdvantages: Sendable {
    public var sequenceKL: [Double]
    public var penalizedRewards: [Double]
    public var baselines: [Double]
    public var advantages: [Double]
}

/// kl_i = Σ_t m·(log π_old − log π_ref); r'_i = r_i − β·kl_i; b_i = (Σ_group r' − r'_i)/(k − 1); A_i = r'_i − b_i.
public func rlooAdvantages(config: RLOOConfig, rewards: [Double], batch: TokenBatch) -> RLOOAdvantages {
    let rows = batch.rows, tokens = batch.tokens, k = config.groupSize
    let old = batch.oldLogProbabilities ?? batch.logProbabilities
    let clipped = rewards.map { r in config.rewardClipRange.map { min(max(r, $0.lowerBound), $0.upperBound) } ?? r }
    let sequenceKL = (0..<rows).map { i -> Double in
        guard let reference = batch.referenceLogProbabilities else { return 0 }
        return (0..<tokens).reduce(0) {
            $0 + batch.mask[i * tokens + $1] * (old[i * tokens + $1] - reference[i * tokens + $1])
        }
    }
    let penalized = (0..<rows).map { clipped[$0] - config.beta * sequenceKL[$0] }
    var baselines = [Double](repeating: 0, count: rows)
    for start in stride(from: 0, to: rows, by: k) {
        let total = penalized[start..<(start + k)].reduce(0, +)
        for i in start..<(start + k) { baselines[i] = (total - penalized[i]) / Double(k - 1) }
    }
    var advantages = (0..<rows).map { penalized[$0] - baselines[$0] }
    if config.normalizeAdvantages {
        let m = mean(advantages), s = unbiasedStandardDeviation(advantages)
        advantages = advantages.map { ($0 - m) / (s + 1e-4) }
    }
    return RLOOAdvantages(
        sequenceKL: sequenceKL, penalizedRewards: penalized, baselines: baselines, advantages: advantages)
}

public struct RLOOLoss: Sendable {
    public var loss: Double
    public var sequenceLogProbabilities: [Double]
    public var oldSequenceLogProbabilities: [Double]
    public var ratio: [Double]
    public var perSequenceLoss: [Double]
    public var statistics: ObjectiveStatistics
    /// ∂loss/∂log π_θ per token, [B·T].
    public var logProbabilityGradient: [Double]
}

/// ρ_i = exp(Σ_t m·log π − Σ_t m·log π_old); loss = mean_i −min(ρ_i·A_i, clip(ρ_i)·A_i).
public func rlooLoss(config: RLOOConfig, batch: TokenBatch, advantages: [Double]) -> RLOOLoss {
    let rows = batch.rows, tokens = batch.tokens
    let m = batch.mask
    let old = batch.oldLogProbabilities ?? batch.logProbabilities
    let epsilonLow = config.epsilonLow, epsilonHigh = config.epsilonHigh ?? config.epsilonLow
    let logps = (0..<rows).map { i in
        (0..<tokens).reduce(0) { $0 + m[i * tokens + $1] * batch.logProbabilities[i * tokens + $1] }
    }
    let oldLogps = (0..<rows).map { i in (0..<tokens).reduce(0) { $0 + m[i * tokens + $1] * old[i * tokens + $1] } }
    let ratio = (0..<rows).map { exp(logps[$0] - oldLogps[$0]) }
    var perSequence = [Double](repeating: 0, count: rows)
    var gradient = [Double](repeating: 0, count: rows * tokens)
    let n = Double(max(rows, 1))
    for i in 0..<rows {
        let a = advantages[i], c = ratio[i]
        let clipped = min(max(c, 1 - epsilonLow), 1 + epsilonHigh)
        perSequence[i] = -min(c * a, clipped * a)
        let slope: Double = (c * a <= clipped * a) || (c > 1 - epsilonLow && c < 1 + epsilonHigh) ? 1 : 0
        let dLossDLogp = -a * slope * c / n
        for t in 0..<tokens { gradient[i * tokens + t] = dLossDLogp * m[i * tokens + t] }
    }
    var statistics = ObjectiveStatistics()
    if config.beta != 0, let reference = batch.referenceLogProbabilities {
        statistics["kl"] = maskedMean((0..<(rows * tokens)).map { old[$0] - reference[$0] }, mask: m)
    }
    let low = (0..<rows).map { ratio[$0] < 1 - epsilonLow && advantages[$0] < 0 ? 1.0 : 0.0 }
    let high = (0..<rows).map { ratio[$0] > 1 + epsilonHigh && advantages[$0] > 0 ? 1.0 : 0.0 }
    statistics["clip_ratio/low_mean"] = Double(Float(mean(low)))
    statistics["clip_ratio/low_min"] = Double(Float(low.min() ?? 0))
    statistics["clip_ratio/high_mean"] = Double(Float(mean(high)))
    statistics["clip_ratio/high_max"] = Double(Float(high.max() ?? 0))
    statistics["clip_ratio/region_mean"] = Double(Float(mean(zip(low, high).map { max($0, $1) })))
    return RLOOLoss(
        loss: mean(perSequence), sequenceLogProbabilities: logps, oldSequenceLogProbabilities: oldLogps, ratio: ratio,
        perSequenceLoss: perSequence, statistics: statistics, logProbabilityGradient: gradient)
}
