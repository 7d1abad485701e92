// The policy-gradient family before PPO: REINFORCE (Williams 1992), REINFORCE with a learned
// baseline, one-step actor-critic (Sutton & Barto 2018 §13.3–13.5), and importance-weighted
// off-policy policy gradients (Degris et al. 2012; truncation as in Espeholt et al. 2018).

/// Loss and gradients of a policy-gradient objective on N samples.
public struct PolicyGradientLoss: Sendable {
    public var loss: Double
    /// ∂loss/∂log π(a_i|s_i).
    public var logProbabilityGradient: [Double]
    /// ∂loss/∂V(s_i) (empty when there is no critic).
    public var valueGradient: [Double]
    public var statistics = ObjectiveStatistics()
}

/// REINFORCE: L = −(1/N) Σ_i w_i · log π(a_i|s_i), where w_i is the return G_i or, with a baseline,
/// the advantage G_i − b(s_i) (the baseline is held constant in the policy term).
/// With `values` the critic is fitted by L_V = ½·(1/N) Σ (G_i − V(s_i))², scaled by `valueCoefficient`.
public func reinforceLoss(logProbabilities: [Double], returns: [Double], values: [Double]? = nil, valueCoefficient: Double = 0.5) -> PolicyGradientLoss {
    let n = Double(max(logProbabilities.count, 1))
    precondition(logProbabilities.count == returns.count, "\(logProbabilities.count) log-probs, \(returns.count) returns")
    let weights = values.map { v in zip(returns, v).map { $0 - $1 } } ?? returns
    var policyLoss = 0.0
    for i in 0..<returns.count { policyLoss -= weights[i] * logProbabilities[i] / n }
    var result = PolicyGradientLoss(loss: policyLoss, logProbabilityGradient: weights.map { -$0 / n }, valueGradient: [])
    result.statistics["losses/policy_loss"] = policyLoss
    if let values {
        var valueLoss = 0.0
        for i in 0..<returns.count { valueLoss += 0.5 * (returns[i] - values[i]) * (returns[i] - values[i]) / n }
        result.loss += valueCoefficient * valueLoss
        result.valueGradient = (0..<returns.count).map { valueCoefficient * (values[$0] - returns[$0]) / n }
        result.statistics["losses/value_loss"] = valueLoss
    }
    return result
}

/// One-step actor-critic: δ_i = r_i + γ·(1 − terminal_i)·V(s'_i) − V(s_i) (V(s') held constant, TD(0));
/// L = −(1/N) Σ δ_i·log π(a_i|s_i) + c_V·½·(1/N) Σ δ_i², with δ a constant in the policy term.
public func actorCriticLoss(
    logProbabilities: [Double], rewards: [Double], values: [Double], nextValues: [Double], terminal: [Bool],
    gamma: Double, valueCoefficient: Double = 0.5
) -> PolicyGradientLoss {
    let count = rewards.count
    let n = Double(max(count, 1))
    let deltas = (0..<count).map { rewards[$0] + gamma * (terminal[$0] ? 0 : nextValues[$0]) - values[$0] }
    var policyLoss = 0.0, valueLoss = 0.0
    for i in 0..<count {
        policyLoss -= deltas[i] * logProbabilities[i] / n
        valueLoss += 0.5 * deltas[i] * deltas[i] / n
    }
    var result = PolicyGradientLoss(
        loss: policyLoss + valueCoefficient * valueLoss, logProbabilityGradient: deltas.map { -$0 / n },
        valueGradient: deltas.map { -valueCoefficient * $0 / n })
    result.statistics["losses/policy_loss"] = policyLoss
    result.statistics["losses/value_loss"] = valueLoss
    result.statistics["losses/td_error"] = mean(deltas.map { abs($0) })
    return result
}

/// Off-policy policy gradient with importance weights ρ_i = π(a_i|s_i)/μ(a_i|s_i) from a stored
/// behaviour policy μ, truncated at ρ̄ (nil: no truncation): L = −(1/N) Σ min(ρ_i, ρ̄)·A_i·log π(a_i|s_i),
/// with the weight held constant (the per-decision estimator of Degris et al. 2012).
public func importanceWeightedPolicyGradientLoss(
    logProbabilities: [Double], behaviourLogProbabilities: [Double], advantages: [Double], truncation: Double? = nil
) -> PolicyGradientLoss {
    let count = logProbabilities.count
    let n = Double(max(count, 1))
    var weights = (0..<count).map { exp(logProbabilities[$0] - behaviourLogProbabilities[$0]) }
    if let truncation { weights = weights.map { min($0, truncation) } }
    var loss = 0.0
    for i in 0..<count { loss -= weights[i] * advantages[i] * logProbabilities[i] / n }
    var result = PolicyGradientLoss(loss: loss, logProbabilityGradient: (0..<count).map { -weights[$0] * advantages[$0] / n }, valueGradient: [])
    result.statistics["losses/policy_loss"] = loss
    result.statistics["importance/weight_mean"] = mean(weights)
    result.statistics["importance/weight_max"] = weights.max() ?? 0
    return result
}

import Foundation
