// The lab's policy-gradient estimators, computed by the shipped code on batches of tabular episodes.
//
// Each estimator is what a trainer computes for one update, stopped before the optimiser:
//   returns     `discountedReturns` (REINFORCE) or n-step bootstrapped returns from
//               `generalizedAdvantages` with λ = 1 on rollouts of n steps (A2C; n = 1 is one-step
//               actor-critic), or GAE(λ) advantages fed to `ppoLoss` at ratio 1 (PPO's first epoch);
//   loss        `reinforceLoss` (with or without the critic as baseline, with or without γ^t step
//               weights, `DiscountWeighting`) or `ppoLoss`, which return ∂L/∂log π;
//   gradient    ∂L/∂log π fed back through `MLPActorCritic.evaluate` on the tape.
// The losses average over the N steps of a batch; the trainers' optimisers see that mean. Here the tape
// gradient is multiplied by −N/B (B episodes in the batch), which turns it into the mean over the batch's
// episodes of the per-episode estimate Σ_t c_t·Â_t·∇ln π(A_t|S_t), whose expectation the theorem gives.
//
// The critic is set to the exact v_π. Any state-dependent baseline leaves REINFORCE unbiased; the
// bootstrapped estimators (A2C, GAE) are unbiased because the value they bootstrap from is exact:
// E[R + γ v_π(S′) | s, a] = q_π(s, a).

import Objectives

/// A gradient estimator as a trainer computes it.
public enum ShippedEstimator: Sendable, Equatable, Codable {
    /// The REINFORCE trainer: `discountedReturns` per episode, `reinforceLoss` with the critic's values as
    /// baseline when `baseline`.
    case reinforce(baseline: Bool, weighting: DiscountWeighting)
    /// The A2C trainer: n-step returns from `generalizedAdvantages(λ = 1)` on rollouts of `steps` steps,
    /// bootstrapped from the critic, then `reinforceLoss` with the critic's values.
    case actorCritic(steps: Int, weighting: DiscountWeighting)
    /// PPO's first minibatch (ratio 1): `ppoLoss` with GAE(λ) advantages, unnormalised, no entropy term;
    /// with `.theorem` the advantages are multiplied by γ^t first.
    case ppo(lambda: Double, weighting: DiscountWeighting)

    public var weighting: DiscountWeighting {
        switch self {
        case .reinforce(_, let weighting), .actorCritic(_, let weighting), .ppo(_, let weighting): weighting
        }
    }

    /// A short name for tables and JSON.
    public var name: String {
        let suffix = weighting == .theorem ? "γ^t" : "no γ^t"
        return switch self {
        case .reinforce(let baseline, _): "REINFORCE\(baseline ? " + baseline" : "") (\(suffix))"
        case .actorCritic(let steps, _): "A2C n=\(steps) (\(suffix))"
        case .ppo(let lambda, _): "PPO ratio 1, GAE λ=\(lambda) (\(suffix))"
        }
    }
}

/// Whole episodes laid end to end: the layout of a REINFORCE batch.
struct EpisodeBatch {
    var states: [Int] = []
    var actions: [Int] = []
    var rewards: [Double] = []
    /// True at the last step of each episode.
    var episodeEnds: [Bool] = []
    /// log π(a_t|s_t) and V(s_t) from the module.
    var logProbabilities: [Double] = []
    var values: [Double] = []
    var episodeCount = 0

    init(_ episodes: [TabularEpisode], policy: TabularActorCritic) {
        for episode in episodes {
            states += episode.states
            actions += episode.actions
            rewards += episode.rewards
            episodeEnds += episode.states.indices.map { $0 == episode.states.count - 1 }
        }
        episodeCount = episodes.count
        (logProbabilities, values) = policy.logProbabilitiesAndValues(states: states, actions: actions)
    }

    var count: Int { states.count }

    /// Ranges of the episodes' steps.
    var episodeRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for index in episodeEnds.indices where episodeEnds[index] {
            ranges.append(start..<(index + 1))
            start = index + 1
        }
        return ranges
    }
}

/// n-step bootstrapped returns as the A2C trainer computes them: each episode cut into rollouts of
/// `steps` steps, each rollout's returns from `generalizedAdvantages` with λ = 1, bootstrapped from the
/// critic's value of the state after the rollout (0 when the episode ended inside it).
func nStepReturns(_ batch: EpisodeBatch, steps: Int, gamma: Double) -> [Double] {
    var returns: [Double] = []
    returns.reserveCapacity(batch.count)
    for episode in batch.episodeRanges {
        var start = episode.lowerBound
        while start < episode.upperBound {
            let end = min(start + steps, episode.upperBound)
            let ended = end == episode.upperBound
            let rollout = generalizedAdvantages(
                rewards: Array(batch.rewards[start..<end]), values: Array(batch.values[start..<end]),
                dones: [Double](repeating: 0, count: end - start),
                nextValue: [ended ? 0 : batch.values[end]], nextDone: [ended ? 1 : 0],
                environments: 1, gamma: gamma, lambda: 1)
            returns += rollout.returns
            start = end
        }
    }
    return returns
}

/// GAE(λ) advantages of whole episodes (each one rollout that ends in termination).
func episodeAdvantages(_ batch: EpisodeBatch, lambda: Double, gamma: Double) -> [Double] {
    var advantages: [Double] = []
    advantages.reserveCapacity(batch.count)
    for episode in batch.episodeRanges {
        advantages += generalizedAdvantages(
            rewards: Array(batch.rewards[episode]), values: Array(batch.values[episode]),
            dones: [Double](repeating: 0, count: episode.count), nextValue: [0], nextDone: [1],
            environments: 1, gamma: gamma, lambda: lambda
        ).advantages
    }
    return advantages
}

/// ∂L/∂log π of one estimator's shipped loss on a batch.
func logProbabilityGradient(of estimator: ShippedEstimator, on batch: EpisodeBatch, gamma: Double) -> [Double] {
    let stepWeights = estimator.weighting.stepWeights(episodeEnds: batch.episodeEnds, gamma: gamma)
    switch estimator {
    case .reinforce(let baseline, _):
        let returns = discountedReturns(rewards: batch.rewards, episodeEnds: batch.episodeEnds, gamma: gamma)
        return reinforceLoss(
            logProbabilities: batch.logProbabilities, returns: returns, values: baseline ? batch.values : nil,
            stepWeights: stepWeights
        ).logProbabilityGradient
    case .actorCritic(let steps, _):
        let returns = nStepReturns(batch, steps: steps, gamma: gamma)
        return reinforceLoss(
            logProbabilities: batch.logProbabilities, returns: returns, values: batch.values, stepWeights: stepWeights
        ).logProbabilityGradient
    case .ppo(let lambda, _):
        var advantages = episodeAdvantages(batch, lambda: lambda, gamma: gamma)
        if let stepWeights { advantages = zip(advantages, stepWeights).map { $0 * $1 } }
        let returns = zip(advantages, batch.values).map { $0 + $1 }
        return ppoLoss(
            config: PPOConfig(clipValueLoss: false, normalizeAdvantages: false, entropyCoefficient: 0),
            newLogProbabilities: batch.logProbabilities, oldLogProbabilities: batch.logProbabilities,
            advantages: advantages, returns: returns, oldValues: batch.values, newValues: batch.values,
            entropies: [Double](repeating: 0, count: batch.count)
        ).logProbabilityGradient
    }
}

/// One batch's estimate of the per-episode gradient: the tape's gradient of the shipped loss times −N/B.
func batchEstimate(
    of estimator: ShippedEstimator, on batch: EpisodeBatch, policy: TabularActorCritic, gamma: Double
) -> [Double] {
    let gradient = logProbabilityGradient(of: estimator, on: batch, gamma: gamma)
    let tape = policy.tapeGradients(states: batch.states, actions: batch.actions, logProbabilityGradient: gradient)
    let scale = -Double(batch.count) / Double(batch.episodeCount)
    return tape.actor.map { $0 * scale }
}

/// Running sums of batch estimates → mean, per-batch variance and standard error.
struct EstimateAccumulator {
    private(set) var sum: [Double]
    private(set) var sumOfSquares: [Double]
    private(set) var count = 0

    init(dimension: Int) {
        sum = [Double](repeating: 0, count: dimension)
        sumOfSquares = [Double](repeating: 0, count: dimension)
    }

    mutating func add(_ estimate: [Double]) {
        for index in estimate.indices {
            sum[index] += estimate[index]
            sumOfSquares[index] += estimate[index] * estimate[index]
        }
        count += 1
    }

    var mean: [Double] { sum.map { $0 / Double(count) } }

    /// Unbiased variance of one batch estimate (divisor M − 1).
    var variance: [Double] {
        let m = Double(count)
        return sum.indices.map { index in
            let average = sum[index] / m
            return max(0, (sumOfSquares[index] - m * average * average) / (m - 1))
        }
    }

    /// √(variance / M).
    var standardError: [Double] { variance.map { ($0 / Double(count)).squareRoot() } }
}
