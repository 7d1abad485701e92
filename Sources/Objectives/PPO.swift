import Foundation

/// PPO-clip (Schulman et al. 2017) with every detail of CleanRL's `ppo.py` minibatch loss.
public struct PPOConfig: Codable, Sendable, Equatable {
    /// ε: the surrogate's clip range [1 − ε, 1 + ε] (CleanRL `clip_coef`).
    public var clipCoefficient = 0.2
    /// Clip the value loss around the rollout values with the same ε (CleanRL `clip_vloss`).
    public var clipValueLoss = true
    /// Normalise advantages per minibatch: (A − mean)/(std_unbiased + 1e-8) (CleanRL `norm_adv`).
    public var normalizeAdvantages = true
    /// c₂: entropy bonus coefficient (`ent_coef`).
    public var entropyCoefficient = 0.01
    /// c₁: value loss coefficient (`vf_coef`).
    public var valueCoefficient = 0.5

    public init(
        clipCoefficient: Double = 0.2, clipValueLoss: Bool = true, normalizeAdvantages: Bool = true,
        entropyCoefficient: Double = 0.01, valueCoefficient: Double = 0.5
    ) {
        self.clipCoefficient = clipCoefficient
        self.clipValueLoss = clipValueLoss
        self.normalizeAdvantages = normalizeAdvantages
        self.entropyCoefficient = entropyCoefficient
        self.valueCoefficient = valueCoefficient
    }

    public func validate() throws {
        guard clipCoefficient > 0 && clipCoefficient.isFinite else {
            throw ObjectiveConfigurationError(
                "clip coefficient ε = \(clipCoefficient) must be > 0", fix: "use e.g. 0.2")
        }
        guard entropyCoefficient >= 0, valueCoefficient >= 0 else {
            throw ObjectiveConfigurationError(
                "entropy and value coefficients must be ≥ 0", fix: "use e.g. 0.01 and 0.5")
        }
    }
}

/// The minibatch loss and everything CleanRL computes on the way.
public struct PPOMinibatchLoss: Sendable {
    public var loss: Double
    public var policyLoss: Double
    public var valueLoss: Double
    public var entropyLoss: Double
    public var logRatio: [Double]
    public var ratio: [Double]
    public var advantages: [Double]
    public var policyLossUnclipped: [Double]
    public var policyLossClipped: [Double]
    public var valueLossUnclipped: [Double]
    public var valueClipped: [Double]
    public var valueLossClipped: [Double]
    public var oldApproximateKL: Double
    public var approximateKL: Double
    public var clipFraction: Double
    /// ∂loss/∂ new log π(a|s), ∂loss/∂ new V(s), ∂loss/∂ entropy, each [N].
    public var logProbabilityGradient: [Double]
    public var valueGradient: [Double]
    public var entropyGradient: [Double]

    /// CleanRL's metric names.
    public var statistics: ObjectiveStatistics {
        var s = ObjectiveStatistics()
        s["losses/policy_loss"] = policyLoss
        s["losses/value_loss"] = valueLoss
        s["losses/entropy"] = entropyLoss
        s["losses/old_approx_kl"] = oldApproximateKL
        s["losses/approx_kl"] = approximateKL
        s["losses/clipfrac"] = clipFraction
        return s
    }
}

/// L = mean(max(−A·ρ, −A·clip(ρ, 1 ± ε))) − c₂·mean(H) + c₁·L_V, where ρ = exp(log π − log π_old) and
/// L_V = ½·mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²)) (or ½·mean((V − R)²) unclipped).
public func ppoLoss(
    config: PPOConfig, newLogProbabilities: [Double], oldLogProbabilities: [Double], advantages rawAdvantages: [Double],
    returns: [Double], oldValues: [Double], newValues: [Double], entropies: [Double]
) -> PPOMinibatchLoss {
    let count = newLogProbabilities.count
    let n = Double(max(count, 1))
    let c = config.clipCoefficient
    let logRatio = (0..<count).map { newLogProbabilities[$0] - oldLogProbabilities[$0] }
    let ratio = logRatio.map { exp($0) }
    var advantages = rawAdvantages
    if config.normalizeAdvantages {
        let m = mean(rawAdvantages), s = unbiasedStandardDeviation(rawAdvantages)
        advantages = rawAdvantages.map { ($0 - m) / (s + 1e-8) }
    }
    var policyLossUnclipped = [Double](repeating: 0, count: count)
    var policyLossClipped = [Double](repeating: 0, count: count)
    var logProbabilityGradient = [Double](repeating: 0, count: count)
    var policyLoss = 0.0
    for i in 0..<count {
        let clippedRatio = min(max(ratio[i], 1 - c), 1 + c)
        policyLossUnclipped[i] = -advantages[i] * ratio[i]
        policyLossClipped[i] = -advantages[i] * clippedRatio
        policyLoss += max(policyLossUnclipped[i], policyLossClipped[i]) / n
        // d/d log π: the unclipped branch (or the clipped one inside the clip range) gives −A·ρ.
        let unclippedActive = policyLossUnclipped[i] >= policyLossClipped[i]
        let insideClip = ratio[i] > 1 - c && ratio[i] < 1 + c
        logProbabilityGradient[i] = unclippedActive || insideClip ? -advantages[i] * ratio[i] / n : 0
    }
    var valueLossUnclipped = [Double](repeating: 0, count: count)
    var valueClipped = [Double](repeating: 0, count: count)
    var valueLossClipped = [Double](repeating: 0, count: count)
    var valueGradient = [Double](repeating: 0, count: count)
    var valueLoss = 0.0
    for i in 0..<count {
        valueLossUnclipped[i] = (newValues[i] - returns[i]) * (newValues[i] - returns[i])
        if config.clipValueLoss {
            let difference = newValues[i] - oldValues[i]
            valueClipped[i] = oldValues[i] + min(max(difference, -c), c)
            valueLossClipped[i] = (valueClipped[i] - returns[i]) * (valueClipped[i] - returns[i])
            valueLoss += 0.5 * max(valueLossUnclipped[i], valueLossClipped[i]) / n
            if valueLossUnclipped[i] >= valueLossClipped[i] {
                valueGradient[i] = config.valueCoefficient * (newValues[i] - returns[i]) / n
            } else if difference > -c && difference < c {
                valueGradient[i] = config.valueCoefficient * (valueClipped[i] - returns[i]) / n
            }
        } else {
            valueLoss += 0.5 * valueLossUnclipped[i] / n
            valueGradient[i] = config.valueCoefficient * (newValues[i] - returns[i]) / n
        }
    }
    let entropyLoss = mean(entropies)
    return PPOMinibatchLoss(
        loss: policyLoss - config.entropyCoefficient * entropyLoss + config.valueCoefficient * valueLoss,
        policyLoss: policyLoss, valueLoss: valueLoss, entropyLoss: entropyLoss, logRatio: logRatio, ratio: ratio,
        advantages: advantages, policyLossUnclipped: policyLossUnclipped, policyLossClipped: policyLossClipped,
        valueLossUnclipped: valueLossUnclipped, valueClipped: valueClipped, valueLossClipped: valueLossClipped,
        oldApproximateKL: mean(logRatio.map { -$0 }),
        approximateKL: mean((0..<count).map { (ratio[$0] - 1) - logRatio[$0] }),
        clipFraction: mean(ratio.map { abs($0 - 1) > c ? 1 : 0 }),
        logProbabilityGradient: logProbabilityGradient, valueGradient: valueGradient,
        entropyGradient: [Double](repeating: -config.entropyCoefficient / n, count: count))
}

/// 1 − Var(R − V)/Var(R) with population variances (CleanRL's `explained_variance`); NaN when Var(R) = 0.
public func explainedVariance(returns: [Double], values: [Double]) -> Double {
    let variance = populationVariance(returns)
    guard variance > 0 else { return .nan }
    return 1 - populationVariance(zip(returns, values).map { $0 - $1 }) / variance
}
