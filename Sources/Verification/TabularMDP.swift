// A small random tabular MDP with episodes that end, and a tabular softmax policy on it: the
// test bed of `verifyPolicyGradient`.
//
// Termination: after every step the episode ends with probability `terminationProbability`
// (a move to an absorbing, zero-reward terminal state); otherwise the next state is drawn from
// K(s'|s, a). So the sub-stochastic transition matrix is P(s'|s, a) = (1 − p_end) K(s'|s, a),
// every episode is finite with probability 1 (mean length 1 / p_end), and Monte Carlo returns
// are unbiased without truncation.

import Foundation
import Randomness

/// A finite MDP: S states, A actions, P(s'|s,a), deterministic rewards r(s,a), discount γ,
/// start distribution d0.
public struct TabularMDP: Sendable, Codable, Equatable {
    public let stateCount: Int
    public let actionCount: Int
    /// K(s'|s, a), the next state's distribution given the episode continues; index (s·A + a)·S + s'.
    public let continuation: [Double]
    /// p_end: probability that the episode ends after any step.
    public let terminationProbability: Double
    /// r(s, a), received on taking a in s; index s·A + a.
    public let rewards: [Double]
    /// γ in G_t = Σ_k γ^k R_{t+k+1}.
    public let discount: Double
    /// d0(s).
    public let startDistribution: [Double]

    public init(
        stateCount: Int, actionCount: Int, continuation: [Double], terminationProbability: Double,
        rewards: [Double], discount: Double, startDistribution: [Double]
    ) {
        precondition(stateCount >= 1 && actionCount >= 1,
                     "TabularMDP needs S, A ≥ 1, got S=\(stateCount) A=\(actionCount)")
        precondition(continuation.count == stateCount * actionCount * stateCount,
                     "TabularMDP: continuation has \(continuation.count) entries, expected S·A·S")
        precondition(rewards.count == stateCount * actionCount,
                     "TabularMDP: rewards has \(rewards.count) entries, expected S·A")
        precondition(startDistribution.count == stateCount,
                     "TabularMDP: start distribution has \(startDistribution.count) entries, expected S")
        precondition(terminationProbability > 0 && terminationProbability <= 1,
                     "TabularMDP: termination probability must lie in (0, 1], got \(terminationProbability)")
        precondition(discount > 0 && discount <= 1, "TabularMDP: discount must lie in (0, 1], got \(discount)")
        self.stateCount = stateCount
        self.actionCount = actionCount
        self.continuation = continuation
        self.terminationProbability = terminationProbability
        self.rewards = rewards
        self.discount = discount
        self.startDistribution = startDistribution
    }

    /// P(s'|s, a) = (1 − p_end) K(s'|s, a).
    @inline(__always)
    public func transitionProbability(from state: Int, action: Int, to next: Int) -> Double {
        (1 - terminationProbability) * continuation[(state * actionCount + action) * stateCount + next]
    }

    @inline(__always)
    public func reward(state: Int, action: Int) -> Double { rewards[state * actionCount + action] }

    /// One step of an episode from `state` taking `action`: the reward r(s, a), then the next state,
    /// or nil when the episode ends (probability p_end). This is the test bed's environment, so it
    /// samples by inverting the cumulative distribution in Double.
    public func step(state: Int, action: Int, using generator: inout SeededGenerator) -> (reward: Double, next: Int?) {
        let reward = self.reward(state: state, action: action)
        if generator.nextUniform() < terminationProbability { return (reward, nil) }
        let row = (state * actionCount + action) * stateCount
        return (reward, sampleIndex(continuation[row..<(row + stateCount)], using: &generator))
    }

    /// S0 ~ d0.
    public func sampleStart(using generator: inout SeededGenerator) -> Int {
        sampleIndex(startDistribution[...], using: &generator)
    }

    /// A random MDP: K(·|s,a) and d0 drawn from a flat Dirichlet (normalised exponentials),
    /// rewards r(s, a) ~ N(rewardMean, 1).
    public static func random(
        stateCount: Int, actionCount: Int, terminationProbability: Double, discount: Double,
        rewardMean: Double = 0, using generator: inout SeededGenerator
    ) -> TabularMDP {
        func dirichlet(_ count: Int) -> [Double] {
            let draws = (0..<count).map { _ in -log(1 - generator.nextUniform()) + 1e-12 }
            let total = draws.reduce(0, +)
            return draws.map { $0 / total }
        }
        var continuation: [Double] = []
        for _ in 0..<(stateCount * actionCount) { continuation += dirichlet(stateCount) }
        let rewards = (0..<(stateCount * actionCount)).map { _ in rewardMean + generator.nextNormal() }
        return TabularMDP(
            stateCount: stateCount, actionCount: actionCount, continuation: continuation,
            terminationProbability: terminationProbability, rewards: rewards, discount: discount,
            startDistribution: dirichlet(stateCount))
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

/// π(a|s) = softmax(θ[s, ·])_a with one logit per (state, action), in Double: the exact side of the
/// comparison. The sampled side runs the same logits through the shipped `MLPActorCritic`
/// (see TabularActorCritic.swift).
public struct TabularSoftmaxPolicy: Sendable, Codable, Equatable {
    public let stateCount: Int
    public let actionCount: Int
    /// θ, index s·A + a.
    public var logits: [Double]

    public init(stateCount: Int, actionCount: Int, logits: [Double]) {
        precondition(logits.count == stateCount * actionCount,
                     "TabularSoftmaxPolicy: \(logits.count) logits for S=\(stateCount) A=\(actionCount)")
        self.stateCount = stateCount
        self.actionCount = actionCount
        self.logits = logits
    }

    /// π(·|s), computed with the maximum logit subtracted for stability.
    public func probabilities(in state: Int) -> [Double] {
        let row = logits[(state * actionCount)..<((state + 1) * actionCount)]
        let largest = row.max() ?? 0
        let exponentials = row.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// π(a|s) for every (s, a), index s·A + a.
    public func probabilityTable() -> [Double] {
        (0..<stateCount).flatMap { probabilities(in: $0) }
    }
}
