// Monte Carlo estimates of ∇J(θ) from sampled episodes: REINFORCE and REINFORCE with a baseline.
//
// Reference: Sutton & Barto (2nd ed.) §13.3 and §13.4. Per episode S0, A0, R1, …, the estimate is
//   ĝ = Σ_t γ^t (G_t − b(S_t)) ∇_θ log π(A_t|S_t),     G_t = Σ_{k ≥ t} γ^{k−t} R_{k+1},
// with b ≡ 0 for REINFORCE and b(s) = v_π(s) (the exact value) for the baseline variant. For the
// tabular softmax, ∂ log π(a|s) / ∂θ[s, b] = 1[a = b] − π(b|s). Both estimators are unbiased
// (E[b(S_t) ∇ log π(A_t|S_t)] = 0); the baseline only changes the variance.

import Randomness

/// Per-component sample statistics of a per-episode gradient estimator.
public struct GradientEstimateStatistics: Sendable, Codable, Equatable {
    /// Estimator name (`reinforce`, `reinforce-with-baseline`).
    public let name: String
    /// Number of episodes N.
    public let episodes: Int
    /// Mean of the N per-episode estimates, index s·A + a.
    public let mean: [Double]
    /// Unbiased per-episode variance (divisor N − 1), index s·A + a.
    public let variance: [Double]
    /// Standard error of the mean, √(variance / N).
    public let standardError: [Double]
    /// Σ of the per-component variances (the trace of the estimator's covariance).
    public var totalVariance: Double { variance.reduce(0, +) }
}

/// Running sums of per-episode estimates.
private struct EstimateAccumulator {
    var sum: [Double]
    var sumOfSquares: [Double]

    init(count: Int) {
        sum = [Double](repeating: 0, count: count)
        sumOfSquares = [Double](repeating: 0, count: count)
    }

    mutating func add(_ estimate: [Double]) {
        for index in estimate.indices {
            sum[index] += estimate[index]
            sumOfSquares[index] += estimate[index] * estimate[index]
        }
    }

    func statistics(name: String, episodes: Int) -> GradientEstimateStatistics {
        let count = Double(episodes)
        let mean = sum.map { $0 / count }
        let variance = sum.indices.map { index in
            max(0, (sumOfSquares[index] - count * mean[index] * mean[index]) / (count - 1))
        }
        return GradientEstimateStatistics(
            name: name, episodes: episodes, mean: mean, variance: variance,
            standardError: variance.map { ($0 / count).squareRoot() })
    }
}

/// Samples an index from probabilities that sum to (about) 1 by inverting the cumulative sum.
private func sampleIndex(_ probabilities: ArraySlice<Double>, using generator: inout SeededGenerator) -> Int {
    let target = generator.nextUniform()
    var running = 0.0
    for index in probabilities.indices {
        running += probabilities[index]
        if target < running { return index - probabilities.startIndex }
    }
    return probabilities.count - 1
}

/// REINFORCE and REINFORCE-with-baseline statistics over `episodes` sampled episodes (the same
/// episodes feed both, so their variances compare on common random numbers).
/// Returns (reinforce, reinforceWithBaseline, mean episode length).
public func monteCarloPolicyGradients(
    _ policy: TabularSoftmaxPolicy, on mdp: TabularMDP, episodes: Int, using generator: inout SeededGenerator
) -> (reinforce: GradientEstimateStatistics, reinforceWithBaseline: GradientEstimateStatistics, meanEpisodeLength: Double) {
    precondition(episodes >= 2, "monteCarloPolicyGradients needs at least 2 episodes for a variance, got \(episodes)")
    let stateCount = mdp.stateCount, actionCount = mdp.actionCount
    let baseline = evaluatePolicy(policy, on: mdp).stateValues
    let probabilities = policy.probabilityTable()  // (S, A)
    let parameterCount = stateCount * actionCount
    var plain = EstimateAccumulator(count: parameterCount)
    var withBaseline = EstimateAccumulator(count: parameterCount)
    var states: [Int] = [], actions: [Int] = [], rewards: [Double] = []
    var totalSteps = 0
    for _ in 0..<episodes {
        states.removeAll(keepingCapacity: true)
        actions.removeAll(keepingCapacity: true)
        rewards.removeAll(keepingCapacity: true)
        var state = sampleIndex(mdp.startDistribution[...], using: &generator)
        while true {
            let row = (state * actionCount)..<((state + 1) * actionCount)
            let action = sampleIndex(probabilities[row], using: &generator)
            states.append(state)
            actions.append(action)
            rewards.append(mdp.reward(state: state, action: action))
            if generator.nextUniform() < mdp.terminationProbability { break }
            let continuationRow = ((state * actionCount + action) * stateCount)..<((state * actionCount + action + 1) * stateCount)
            state = sampleIndex(mdp.continuation[continuationRow], using: &generator)
        }
        totalSteps += states.count
        var plainEstimate = [Double](repeating: 0, count: parameterCount)
        var baselineEstimate = [Double](repeating: 0, count: parameterCount)
        // Walk backwards for G_t; γ^t is computed forwards once.
        var discountPowers = [Double](repeating: 1, count: states.count)
        for step in states.indices.dropFirst() { discountPowers[step] = discountPowers[step - 1] * mdp.discount }
        var returnToGo = 0.0
        for step in states.indices.reversed() {
            returnToGo = rewards[step] + mdp.discount * returnToGo
            let stepState = states[step], stepAction = actions[step]
            let plainWeight = discountPowers[step] * returnToGo
            let baselineWeight = discountPowers[step] * (returnToGo - baseline[stepState])
            for logitAction in 0..<actionCount {
                let index = stepState * actionCount + logitAction
                let scoreFunction = (logitAction == stepAction ? 1 : 0) - probabilities[index]
                plainEstimate[index] += plainWeight * scoreFunction
                baselineEstimate[index] += baselineWeight * scoreFunction
            }
        }
        plain.add(plainEstimate)
        withBaseline.add(baselineEstimate)
    }
    return (
        plain.statistics(name: "reinforce", episodes: episodes),
        withBaseline.statistics(name: "reinforce-with-baseline", episodes: episodes),
        Double(totalSteps) / Double(episodes)
    )
}
