import Foundation

/// PPO on tokens with a value head, as TRL 1.9's experimental `PPOTrainer` (Ouyang et al. 2022;
/// Ziegler et al. 2019): per-token KL penalty folded into the reward, the score placed after EOS,
/// GAE over the completion tokens, clipped policy and value losses.
public struct TokenPPOConfig: Codable, Sendable, Equatable {
    public enum KLEstimator: String, Codable, Sendable { case k1, k3 }
    /// β_KL: per-token KL penalty weight (TRL `kl_coef`).
    public var klCoefficient = 0.05
    public var klEstimator = KLEstimator.k1
    public var whitenRewards = false
    /// γ, λ for GAE over tokens.
    public var gamma = 1.0
    public var lambda = 0.95
    /// ε: policy clip range; value clip range.
    public var clipRange = 0.2
    public var valueClipRange = 0.2
    /// c₁: value loss weight (TRL `vf_coef`).
    public var valueCoefficient = 0.1
    /// Sampling temperature (log-probs are of logits / (temperature + 1e-7)).
    public var temperature = 0.7
    /// Subtracted from the score of completions without EOS.
    public var missingEOSPenalty: Double?

    public init() {}

    public func validate() throws {
        guard klCoefficient >= 0 else {
            throw ObjectiveConfigurationError("kl_coef = \(klCoefficient) is negative", fix: "use ≥ 0")
        }
        guard clipRange > 0 && valueClipRange > 0 else {
            throw ObjectiveConfigurationError("clip ranges must be > 0", fix: "use e.g. 0.2")
        }
        guard (0...1).contains(gamma) && (0...1).contains(lambda) else {
            throw ObjectiveConfigurationError("γ and λ must lie in [0, 1]", fix: "use e.g. γ 1, λ 0.95")
        }
        guard temperature > 0 else { throw ObjectiveConfigurationError("temperature must be > 0", fix: "use e.g. 0.7") }
    }
}

/// TRL's `masked_whiten`: (x − μ)/√(σ² + 1e-8) with the masked mean and the Bessel-corrected masked variance
/// over the whole batch, plus μ back when `shiftMean` is false.
public func maskedWhiten(_ x: [Double], mask: [Double], shiftMean: Bool = true) -> [Double] {
    let mu = maskedMean(x, mask: mask)
    let count = mask.reduce(0, +)
    var variance = maskedMean(x.map { ($0 - mu) * ($0 - mu) }, mask: mask)
    if count > 1 { variance *= count / (count - 1) }
    let scale = 1 / (variance + 1e-8).squareRoot()
    return x.map { ($0 - mu) * scale + (shiftMean ? 0 : mu) }
}

/// The rollout post-processing of TRL's PPO: masks, KL, rewards, GAE, returns and whitened advantages.
public struct TokenPPORollout: Sendable {
    public var rows: Int
    public var tokens: Int
    /// Index of the last real token per row.
    public var sequenceLengths: [Int]
    /// 1 where t > sequence length (padding), [B·T]; and where t > sequence length + 1.
    public var paddingMask: [Double]
    public var paddingMaskPlusOne: [Double]
    public var logProbabilities: [Double]
    public var referenceLogProbabilities: [Double]
    public var values: [Double]
    public var kl: [Double]
    public var nonScoreReward: [Double]
    public var scores: [Double]
    public var scoreIndex: [Int]
    public var rewards: [Double]
    public var advantages: [Double]
    public var returns: [Double]
    public var statistics: ObjectiveStatistics
}

/// INVALID_LOGPROB in TRL: the value log-probs take at padding.
public let invalidLogProbability = 1.0

public func tokenPPORollout(
    config: TokenPPOConfig, responses: [Int], rows: Int, tokens: Int, padID: Int, eosID: Int,
    logProbabilities: [Double], referenceLogProbabilities: [Double], values: [Double], scores rawScores: [Double]
) -> TokenPPORollout {
    let count = rows * tokens
    let sequenceLengths = (0..<rows).map { i -> Int in
        let firstPad = (0..<tokens).first { responses[i * tokens + $0] == padID } ?? tokens
        return firstPad - 1
    }
    var paddingMask = [Double](repeating: 0, count: count), paddingMaskPlusOne = paddingMask
    for i in 0..<rows {
        for t in 0..<tokens {
            paddingMask[i * tokens + t] = t > sequenceLengths[i] ? 1 : 0
            paddingMaskPlusOne[i * tokens + t] = t > sequenceLengths[i] + 1 ? 1 : 0
        }
    }
    let logp = (0..<count).map { paddingMask[$0] == 1 ? invalidLogProbability : logProbabilities[$0] }
    let reference = (0..<count).map { paddingMask[$0] == 1 ? invalidLogProbability : referenceLogProbabilities[$0] }
    let maskedValues = (0..<count).map { paddingMaskPlusOne[$0] == 1 ? 0 : values[$0] }
    var scores = rawScores
    if let penalty = config.missingEOSPenalty {
        for i in 0..<rows where !(0..<tokens).contains(where: { responses[i * tokens + $0] == eosID }) {
            scores[i] -= penalty
        }
    }
    let kl = (0..<count).map { k -> Double in
        let logRatio = reference[k] - logp[k]
        return config.klEstimator == .k1 ? -logRatio : (exp(logRatio) - 1) - logRatio
    }
    let nonScoreReward = kl.map { -config.klCoefficient * $0 }
    var rewards = nonScoreReward
    let scoreIndex = sequenceLengths.map { $0 + 1 < tokens ? $0 + 1 : $0 }
    for i in 0..<rows { rewards[i * tokens + scoreIndex[i]] += scores[i] }
    if config.whitenRewards {
        let keep = paddingMaskPlusOne.map { 1 - $0 }
        rewards = maskedWhiten(rewards, mask: keep, shiftMean: false)
        for k in 0..<count where paddingMaskPlusOne[k] == 1 { rewards[k] = 0 }
    }
    var advantages = [Double](repeating: 0, count: count)
    for i in 0..<rows {
        var last = 0.0
        for t in stride(from: tokens - 1, through: 0, by: -1) {
            let nextValue = t < tokens - 1 ? maskedValues[i * tokens + t + 1] : 0
            let delta = rewards[i * tokens + t] + config.gamma * nextValue - maskedValues[i * tokens + t]
            last = delta + config.gamma * config.lambda * last
            advantages[i * tokens + t] = last
        }
    }
    let returns = (0..<count).map { advantages[$0] + maskedValues[$0] }
    advantages = maskedWhiten(advantages, mask: paddingMask.map { 1 - $0 })
    for k in 0..<count where paddingMask[k] == 1 { advantages[k] = 0 }

    func rowSumMean(_ x: [Double]) -> Double {
        mean((0..<rows).map { i in (0..<tokens).reduce(0) { $0 + x[i * tokens + $1] } })
    }
    var statistics = ObjectiveStatistics()
    statistics["objective/kl"] = rowSumMean(kl)
    statistics["objective/entropy"] = rowSumMean(logp.map { -$0 })
    statistics["objective/non_score_reward"] = rowSumMean(nonScoreReward)
    statistics["objective/rlhf_reward"] = rowSumMean(nonScoreReward) + mean(scores)
    statistics["objective/scores"] = mean(scores)
    return TokenPPORollout(
        rows: rows, tokens: tokens, sequenceLengths: sequenceLengths, paddingMask: paddingMask,
        paddingMaskPlusOne: paddingMaskPlusOne,
        logProbabilities: logp, referenceLogProbabilities: reference, values: maskedValues, kl: kl,
        nonScoreReward: nonScoreReward,
        scores: scores, scoreIndex: scoreIndex, rewards: rewards, advantages: advantages, returns: returns,
        statistics: statistics)
}

public struct TokenPPOLoss: Sendable {
    public var loss: Double
    public var policyLoss: Double
    public var valueLoss: Double
    public var newLogProbabilities: [Double]
    public var predictedValues: [Double]
    public var clippedValues: [Double]
    public var valueLosses: [Double]
    public var clippedValueLosses: [Double]
    public var ratio: [Double]
    public var policyLosses: [Double]
    public var clippedPolicyLosses: [Double]
    public var statistics: ObjectiveStatistics
    /// ∂loss/∂(new log π) and ∂loss/∂(new value) per position, [B·T] (0 at padding).
    public var logProbabilityGradient: [Double]
    public var valueGradient: [Double]
}

/// One PPO minibatch loss on tokens: pg = masked_mean(max(−A·ρ, −A·clip(ρ))), vf = ½·masked_mean(max((V − R)²,
/// (clip(V, V_old ± ε_v) − R)²)) including the first padding position, loss = pg + c₁·vf.
/// Rows are a subset of the rollout given by `rowIndices` (TRL's micro-batch).
public func tokenPPOLoss(
    config: TokenPPOConfig, rollout: TokenPPORollout, rowIndices: [Int], newLogProbabilities raw: [Double],
    newValues: [Double]
) -> TokenPPOLoss {
    let tokens = rollout.tokens
    let count = rowIndices.count * tokens
    func source(_ k: Int) -> Int { rowIndices[k / tokens] * tokens + k % tokens }
    let padding = (0..<count).map { rollout.paddingMask[source($0)] }
    let paddingPlusOne = (0..<count).map { rollout.paddingMaskPlusOne[source($0)] }
    let keep = padding.map { 1 - $0 }, keepValue = paddingPlusOne.map { 1 - $0 }
    let newLogp = (0..<count).map { padding[$0] == 1 ? invalidLogProbability : raw[$0] }
    let vpred = (0..<count).map { paddingPlusOne[$0] == 1 ? 0 : newValues[$0] }
    var clippedValues = [Double](repeating: 0, count: count), valueLosses = clippedValues,
        clippedValueLosses = clippedValues
    var ratio = clippedValues, policyLosses = clippedValues, clippedPolicyLosses = clippedValues
    var logpGradient = clippedValues, valueGradient = clippedValues
    let keptTokens = max(keep.reduce(0, +), 1e-300), keptValueTokens = max(keepValue.reduce(0, +), 1e-300)
    var valueLoss = 0.0, policyLoss = 0.0, valueClipCount = 0.0, policyClipCount = 0.0
    for k in 0..<count {
        let s = source(k)
        let returnValue = rollout.returns[s], oldValue = rollout.values[s]
        clippedValues[k] = min(max(vpred[k], oldValue - config.valueClipRange), oldValue + config.valueClipRange)
        valueLosses[k] = (vpred[k] - returnValue) * (vpred[k] - returnValue)
        clippedValueLosses[k] = (clippedValues[k] - returnValue) * (clippedValues[k] - returnValue)
        valueLoss += 0.5 * max(valueLosses[k], clippedValueLosses[k]) * keepValue[k] / keptValueTokens
        if clippedValueLosses[k] > valueLosses[k] { valueClipCount += keepValue[k] }
        if keepValue[k] == 1 {
            let inside = vpred[k] > oldValue - config.valueClipRange && vpred[k] < oldValue + config.valueClipRange
            let gradient =
                valueLosses[k] >= clippedValueLosses[k]
                ? (vpred[k] - returnValue) : (inside ? clippedValues[k] - returnValue : 0)
            valueGradient[k] = config.valueCoefficient * gradient / keptValueTokens
        }
        let advantage = rollout.advantages[s]
        ratio[k] = exp(newLogp[k] - rollout.logProbabilities[s])
        let clippedRatio = min(max(ratio[k], 1 - config.clipRange), 1 + config.clipRange)
        policyLosses[k] = -advantage * ratio[k]
        clippedPolicyLosses[k] = -advantage * clippedRatio
        policyLoss += max(policyLosses[k], clippedPolicyLosses[k]) * keep[k] / keptTokens
        if clippedPolicyLosses[k] > policyLosses[k] { policyClipCount += keep[k] }
        if keep[k] == 1 {
            let inside = ratio[k] > 1 - config.clipRange && ratio[k] < 1 + config.clipRange
            logpGradient[k] =
                policyLosses[k] >= clippedPolicyLosses[k] || inside ? -advantage * ratio[k] / keptTokens : 0
        }
    }
    var statistics = ObjectiveStatistics()
    statistics["policy/clipfrac_avg"] = Double(Float(policyClipCount / keptTokens))
    statistics["loss/value_avg"] = valueLoss
    statistics["loss/policy_avg"] = policyLoss
    statistics["val/clipfrac_avg"] = Double(Float(valueClipCount / keptValueTokens))
    statistics["policy/approxkl_avg"] =
        0.5
        * mean(
            (0..<count).map {
                (newLogp[$0] - rollout.logProbabilities[source($0)])
                    * (newLogp[$0] - rollout.logProbabilities[source($0)])
            })
    statistics["val/ratio"] = mean(ratio)
    return TokenPPOLoss(
        loss: policyLoss + config.valueCoefficient * valueLoss, policyLoss: policyLoss, valueLoss: valueLoss,
        newLogProbabilities: newLogp,
        predictedValues: vpred, clippedValues: clippedValues, valueLosses: valueLosses,
        clippedValueLosses: clippedValueLosses,
        ratio: ratio, policyLosses: policyLosses, clippedPolicyLosses: clippedPolicyLosses, statistics: statistics,
        logProbabilityGradient: logpGradient, valueGradient: valueGradient)
}
