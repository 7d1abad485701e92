// Identities between the shipped objective functions, checked on sampled tabular episodes:
//   1. PPO at ratio 1: the gradient of `ppoLoss` with ρ = 1 (new log-probs = old) is the policy
//      gradient −(1/N)·A_i of `reinforceLoss` with the same advantages, on the tape; and the analytic
//      ∂L/∂log π of `ppoLoss` matches central differences of its own loss there.
//   2. GAE with λ = 1 is the Monte Carlo advantage: `generalizedAdvantages(λ: 1)` on a rollout of
//      E environments with episode ends and a bootstrap equals `discountedReturns` − V.
//   3. Actor-critic(λ): the backward view with accumulating traces (`eligibilityTraceUpdate`, as
//      ActorCriticLambda.swift uses it, with the tape's ∇ln π and ∇v̂ per step), summed over an episode
//      with the parameters held (offline), equals the forward view, the λ-return update
//      Σ_t α·γ^t (G^λ_t − v̂(S_t))·∇ln π and Σ_t α·(G^λ_t − v̂(S_t))·∇v̂ (Sutton & Barto 2018 §12.1–12.5,
//      §13.6), computed with `generalizedAdvantages(λ)` (GAE(λ) = G^λ − v̂) and `reinforceLoss`.

import Objectives

/// max |a − b| / max(max |b|, tiny): a relative error in max-norm.
func maxNormRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "maxNormRelativeError: \(a.count) vs \(b.count) entries")
    let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    let scale = b.map(abs).max() ?? 0
    return difference / max(scale, .leastNormalMagnitude)
}

/// 1: over every batch, the largest relative difference between PPO's tape gradient at ratio 1 and
/// `reinforceLoss`'s with the same advantages; and the largest error of PPO's analytic ∂L/∂log π
/// against central differences of `ppoLoss` (step h) on the first batch.
func ppoRatioOneIdentity(
    _ batch: EpisodeBatch, policy: TabularActorCritic, gamma: Double, lambda: Double, step: Double = 1e-6
) -> (tapeRelativeError: Double, finiteDifferenceError: Double) {
    let advantages = episodeAdvantages(batch, lambda: lambda, gamma: gamma)
    let returns = zip(advantages, batch.values).map { $0 + $1 }
    let config = PPOConfig(clipValueLoss: false, normalizeAdvantages: false, entropyCoefficient: 0)
    func loss(_ newLogProbabilities: [Double]) -> PPOMinibatchLoss {
        ppoLoss(
            config: config, newLogProbabilities: newLogProbabilities, oldLogProbabilities: batch.logProbabilities,
            advantages: advantages, returns: returns, oldValues: batch.values, newValues: batch.values,
            entropies: [Double](repeating: 0, count: batch.count))
    }
    let ppo = loss(batch.logProbabilities)
    let reinforce = reinforceLoss(logProbabilities: batch.logProbabilities, returns: returns, values: batch.values)
    let ppoTape = policy.tapeGradients(
        states: batch.states, actions: batch.actions, logProbabilityGradient: ppo.logProbabilityGradient)
    let reinforceTape = policy.tapeGradients(
        states: batch.states, actions: batch.actions, logProbabilityGradient: reinforce.logProbabilityGradient)
    let finiteDifference = batch.logProbabilities.indices.map { index in
        var plus = batch.logProbabilities, minus = batch.logProbabilities
        plus[index] += step
        minus[index] -= step
        return (loss(plus).loss - loss(minus).loss) / (2 * step)
    }
    return (maxNormRelativeError(ppoTape.actor, reinforceTape.actor),
            maxNormRelativeError(ppo.logProbabilityGradient, finiteDifference))
}

/// 2: episodes dealt to `environments` columns of a `steps`-step rollout (auto-reset as a vector
/// environment does; the rollout cuts the last episode of each column, which is then bootstrapped from
/// the critic). Returns the max-norm relative difference between GAE(λ = 1)'s advantages and
/// `discountedReturns` − V, column by column.
func generalizedAdvantagesAtLambdaOne(
    _ batch: EpisodeBatch, environments: Int, steps: Int, gamma: Double
) -> Double {
    // Deal whole episodes to columns until each holds `steps` steps (every batch step belongs to one column).
    let ranges = batch.episodeRanges
    var nextEpisode = 0
    var columns: [[Int]] = []    // batch indices of each column's steps, plus one more when cut
    for _ in 0..<environments {
        var column: [Int] = []
        while column.count <= steps, nextEpisode < ranges.count {
            column += Array(ranges[nextEpisode])
            nextEpisode += 1
        }
        columns.append(column)
    }
    let usable = columns.map { min($0.count, steps) }.min() ?? 0
    guard usable > 0 else { return 0 }
    // Step-major [T, E] arrays, CleanRL's layout.
    var rewards: [Double] = [], values: [Double] = [], dones: [Double] = []
    var nextValue: [Double] = [], nextDone: [Double] = []
    for t in 0..<usable {
        for column in columns {
            let index = column[t]
            rewards.append(batch.rewards[index])
            values.append(batch.values[index])
            dones.append(t > 0 && batch.episodeEnds[column[t - 1]] ? 1 : 0)
        }
    }
    for column in columns {
        let last = column[usable - 1]
        let ended = batch.episodeEnds[last]
        nextDone.append(ended ? 1 : 0)
        nextValue.append(ended ? 0 : batch.values[last + 1])  // the episode continues at the next batch step
    }
    let gae = generalizedAdvantages(
        rewards: rewards, values: values, dones: dones, nextValue: nextValue, nextDone: nextDone,
        environments: environments, gamma: gamma, lambda: 1)
    var worst = 0.0
    for (e, column) in columns.enumerated() {
        let indices = Array(column[0..<usable])
        let monteCarlo = discountedReturns(
            rewards: indices.map { batch.rewards[$0] }, episodeEnds: indices.map { batch.episodeEnds[$0] },
            gamma: gamma, bootstrapValue: nextValue[e])
        let monteCarloAdvantages = zip(monteCarlo, indices).map { $0 - batch.values[$1] }
        let gaeColumn = (0..<usable).map { gae.advantages[$0 * environments + e] }
        worst = max(worst, maxNormRelativeError(gaeColumn, monteCarloAdvantages))
    }
    return worst
}

/// 3: the backward and forward views of actor-critic(λ) on one episode, offline. Returns the relative
/// max-norm difference of the two updates (actor and critic parameters together).
func traceAndForwardViewDifference(
    _ episode: TabularEpisode, policy: TabularActorCritic, gamma: Double, lambda: Double, stepSize: Double
) -> Double {
    let batch = EpisodeBatch([episode], policy: policy)
    // Backward view, as ActorCriticLambda.swift: per step, the tape's ∇ln π(A|S) and ∇v̂(S); traces
    // z_θ ← γλ z_θ + I·∇ln π, z_w ← γλ z_w + ∇v̂ (I = γ^t); updates α·δ·z accumulated, parameters held.
    var actorTrace: [Double] = [], criticTrace: [Double] = []
    var actorUpdate: [Double] = [], criticUpdate: [Double] = []
    var discount = 1.0
    for t in 0..<batch.count {
        let tape = policy.tapeGradients(
            states: [batch.states[t]], actions: [batch.actions[t]], logProbabilityGradient: [1], valueGradient: [1])
        if actorTrace.isEmpty {
            actorTrace = tape.actor.map { _ in 0 }
            criticTrace = tape.critic.map { _ in 0 }
            actorUpdate = actorTrace
            criticUpdate = criticTrace
        }
        let nextValue = batch.episodeEnds[t] ? 0 : batch.values[t + 1]
        let delta = batch.rewards[t] + gamma * nextValue - batch.values[t]
        actorTrace = eligibilityTraceUpdate(
            trace: actorTrace, gradient: tape.actor.map { discount * $0 }, gamma: gamma, lambda: lambda)
        criticTrace = eligibilityTraceUpdate(trace: criticTrace, gradient: tape.critic, gamma: gamma, lambda: lambda)
        for i in actorUpdate.indices { actorUpdate[i] += stepSize * delta * actorTrace[i] }
        for i in criticUpdate.indices { criticUpdate[i] += stepSize * delta * criticTrace[i] }
        discount *= gamma
    }
    // Forward view: λ-returns G^λ = GAE(λ) + v̂, through `reinforceLoss` with γ^t step weights (actor) and its
    // critic regression (value coefficient 1); the update is −α·N times the tape gradient of the mean loss.
    let advantages = episodeAdvantages(batch, lambda: lambda, gamma: gamma)
    let lambdaReturns = zip(advantages, batch.values).map { $0 + $1 }
    let loss = reinforceLoss(
        logProbabilities: batch.logProbabilities, returns: lambdaReturns, values: batch.values, valueCoefficient: 1,
        stepWeights: DiscountWeighting.theorem.stepWeights(episodeEnds: batch.episodeEnds, gamma: gamma))
    let tape = policy.tapeGradients(
        states: batch.states, actions: batch.actions, logProbabilityGradient: loss.logProbabilityGradient,
        valueGradient: loss.valueGradient)
    let scale = -stepSize * Double(batch.count)
    let forward = tape.actor.map { $0 * scale } + tape.critic.map { $0 * scale }
    return maxNormRelativeError(actorUpdate + criticUpdate, forward)
}
