// The policy-gradient family before PPO: REINFORCE (Williams 1992), REINFORCE with a learned
// baseline, n-step advantage actor-critic (its policy term is REINFORCE's with bootstrapped returns,
// Sutton & Barto 2018 §13.3–13.5), and importance-weighted off-policy policy gradients
// (Degris et al. 2012; truncation as in Espeholt et al. 2018).

import Foundation

/// Loss and gradients of a policy-gradient objective on N samples.
public struct PolicyGradientLoss: Sendable {
    public var loss: Double
    /// ∂loss/∂log π(a_i|s_i).
    public var logProbabilityGradient: [Double]
    /// ∂loss/∂V(s_i) (empty when there is no critic).
    public var valueGradient: [Double]
    public var statistics = ObjectiveStatistics()
}

/// Which gradient REINFORCE's policy term estimates for γ < 1.
///
/// The policy gradient theorem (Sutton & Barto 2018 §13.2–13.3) gives
/// ∇J = E[Σ_t γ^t (G_t − b(S_t)) ∇ln π(A_t|S_t)]: the step at time t carries the factor γ^t, which weights
/// states by the discounted visitation μ(s) = Σ_t γ^t Pr(S_t = s). CleanRL's and Stable-Baselines3's
/// policy-gradient code drops γ^t and weights every step alike; the expectation then weights states by
/// the undiscounted visitation η(s) = Σ_t Pr(S_t = s), which is not ∇J for γ < 1 and in general not the
/// gradient of any objective (Nota & Thomas 2020, "Is the policy gradient a gradient?"). In practice the
/// dropped factor is often preferred: with γ = 0.99 and long episodes γ^t starves late steps of signal.
/// `policylab verify policy-gradient` measures both against the exact ∇J of a tabular MDP.
///
/// The lab's trainers default to `.unweighted` (CleanRL/SB3 practice); `.theorem` is the unbiased one.
public enum DiscountWeighting: String, Codable, Sendable, CaseIterable {
    /// Every step weighted 1: Σ_t (G_t − b) ∇ln π (CleanRL, SB3). Biased for ∇J when γ < 1. The default.
    case unweighted = "none"
    /// Step t weighted γ^t: Σ_t γ^t (G_t − b) ∇ln π, the theorem's unbiased estimator of ∇J.
    case theorem

    /// The per-sample weights for `reinforceLoss(stepWeights:)`: nil for `.unweighted`, γ^t for `.theorem`
    /// with t counted from the first step of each episode (see `discountPowers`).
    public func stepWeights(episodeEnds: [Bool], gamma: Double) -> [Double]? {
        switch self {
        case .unweighted: nil
        case .theorem: discountPowers(episodeEnds: episodeEnds, gamma: gamma)
        }
    }
}

/// REINFORCE: L = −(1/N) Σ_i c_i·w_i · log π(a_i|s_i), where w_i is the return G_i or, with a baseline,
/// the advantage G_i − b(s_i) (the baseline is held constant in the policy term), and c_i is the step
/// weight: 1 when `stepWeights` is nil (the default, CleanRL/SB3), γ^t for the theorem's estimator
/// (pass `DiscountWeighting.theorem.stepWeights(…)`).
/// With `values` the critic is fitted by L_V = ½·(1/N) Σ (G_i − V(s_i))², scaled by `valueCoefficient`;
/// the critic's regression is never step-weighted.
public func reinforceLoss(
    logProbabilities: [Double], returns: [Double], values: [Double]? = nil, valueCoefficient: Double = 0.5,
    stepWeights: [Double]? = nil
) -> PolicyGradientLoss {
    let n = Double(max(logProbabilities.count, 1))
    precondition(logProbabilities.count == returns.count,
                 "\(logProbabilities.count) log-probs, \(returns.count) returns")
    precondition(stepWeights.map { $0.count == returns.count } ?? true,
                 "\(stepWeights?.count ?? 0) step weights for \(returns.count) returns")
    var weights = values.map { v in zip(returns, v).map { $0 - $1 } } ?? returns
    if let stepWeights { weights = zip(weights, stepWeights).map { $0 * $1 } }
    var policyLoss = 0.0
    for i in 0..<returns.count { policyLoss -= weights[i] * logProbabilities[i] / n }
    var result = PolicyGradientLoss(
        loss: policyLoss, logProbabilityGradient: weights.map { -$0 / n }, valueGradient: [])
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
    var result = PolicyGradientLoss(
        loss: loss, logProbabilityGradient: (0..<count).map { -weights[$0] * advantages[$0] / n }, valueGradient: [])
    result.statistics["losses/policy_loss"] = loss
    result.statistics["importance/weight_mean"] = mean(weights)
    result.statistics["importance/weight_max"] = weights.max() ?? 0
    return result
}
