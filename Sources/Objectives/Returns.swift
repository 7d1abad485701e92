// Returns and advantage estimators (Sutton & Barto 2018 ch. 12–13; Schulman et al. 2016, GAE).

/// Discounted Monte-Carlo returns G_t = r_t + γ·G_{t+1}, restarting after every episode end.
/// `episodeEnds[t]` is true when step t was the last of its episode (terminated or truncated);
/// `bootstrapValue` is V(s_T) for a trajectory cut mid-episode (0 when it ended).
public func discountedReturns(
    rewards: [Double], episodeEnds: [Bool], gamma: Double, bootstrapValue: Double = 0
) -> [Double] {
    precondition(rewards.count == episodeEnds.count, "\(rewards.count) rewards, \(episodeEnds.count) end flags")
    var returns = [Double](repeating: 0, count: rewards.count)
    var running = bootstrapValue
    for t in stride(from: rewards.count - 1, through: 0, by: -1) {
        if episodeEnds[t] { running = 0 }
        running = rewards[t] + gamma * running
        returns[t] = running
    }
    return returns
}

/// γ^t for every step, with t counted from the first step of its episode: t restarts at 0 after every
/// `episodeEnds[t]`. These are the weights of the policy gradient theorem's estimator
/// (`DiscountWeighting.theorem`); the batch must start at an episode's first step.
public func discountPowers(episodeEnds: [Bool], gamma: Double) -> [Double] {
    var powers = [Double](repeating: 1, count: episodeEnds.count)
    var power = 1.0
    for t in episodeEnds.indices {
        powers[t] = power
        power = episodeEnds[t] ? 1 : power * gamma
    }
    return powers
}

/// Generalised advantage estimation exactly as CleanRL's `ppo.py` computes it, for a rollout of
/// S steps × E environments stored step-major ([S, E]).
///
/// `dones[t, e]` = 1 means observation t of env e is the first of a new episode (the episode ended at
/// step t − 1); `nextDone[e]` and `nextValue[e]` describe the observation after the last step.
/// δ_t = r_t + γ·V_{t+1}·(1 − done_{t+1}) − V_t;  A_t = δ_t + γλ·(1 − done_{t+1})·A_{t+1};  R_t = A_t + V_t.
///
/// `truncationBootstrap` (optional, [S, E]): for steps whose episode was cut by the time limit, the
/// value of the final observation, added as γ·V(s_final) to that step's reward (SB3's handling of
/// truncation; CleanRL treats truncation like termination). Pass nil for CleanRL's behaviour.
public func generalizedAdvantages(
    rewards: [Double], values: [Double], dones: [Double], nextValue: [Double], nextDone: [Double],
    environments: Int, gamma: Double, lambda: Double, truncationBootstrap: [Double]? = nil
) -> (advantages: [Double], returns: [Double]) {
    let count = rewards.count
    precondition(values.count == count && dones.count == count && count % environments == 0,
                 "GAE inputs must all be [S, E]")
    let steps = count / environments
    var advantages = [Double](repeating: 0, count: count)
    var lastAdvantage = [Double](repeating: 0, count: environments)
    for t in stride(from: steps - 1, through: 0, by: -1) {
        for e in 0..<environments {
            let index = t * environments + e
            let nextNonTerminal: Double, nextValues: Double
            if t == steps - 1 {
                nextNonTerminal = 1 - nextDone[e]
                nextValues = nextValue[e]
            } else {
                nextNonTerminal = 1 - dones[index + environments]
                nextValues = values[index + environments]
            }
            let reward = rewards[index] + gamma * (truncationBootstrap?[index] ?? 0)
            let delta = reward + gamma * nextValues * nextNonTerminal - values[index]
            lastAdvantage[e] = delta + gamma * lambda * nextNonTerminal * lastAdvantage[e]
            advantages[index] = lastAdvantage[e]
        }
    }
    let returns = (0..<count).map { advantages[$0] + values[$0] }
    return (advantages, returns)
}

/// One step of an accumulating eligibility trace (Sutton & Barto §12.5, §13.6):
/// z ← γλ·z + ∇, returned as a new vector. Actor-critic(λ) keeps one trace per parameter vector.
public func eligibilityTraceUpdate(
    trace: [Double], gradient: [Double], gamma: Double, lambda: Double
) -> [Double] {
    precondition(trace.count == gradient.count, "trace of \(trace.count) for a gradient of \(gradient.count)")
    return (0..<trace.count).map { gamma * lambda * trace[$0] + gradient[$0] }
}
