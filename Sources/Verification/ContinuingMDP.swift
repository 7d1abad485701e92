// Finite continuing MDPs and their exact average-reward solutions.
//
// Reference: Sutton & Barto, "Reinforcement Learning: An Introduction" (2nd ed.), §10.3 (the average
// reward r(π) and differential values) and Puterman, "Markov Decision Processes" (1994), §8.5.5
// (relative value iteration) and §8.2 (evaluation of a policy on a unichain MDP).
//
// For an ergodic chain under π (every state reachable from every other, as in the queuing task and the
// random MDPs here), with P_π(s, s') = Σ_a π(a|s) P(s'|s, a) and r_π(s) = Σ_a π(a|s) r(s, a):
//   μ_π = μ_π P_π, Σ_s μ_π(s) = 1                      (the stationary distribution)
//   r(π) = Σ_s μ_π(s) r_π(s)                           (the average reward)
//   v_π = r_π − r(π)·1 + P_π v_π, μ_π · v_π = 0        (the differential values; unique with that centring)
//   q_π(s, a) = r(s, a) − r(π) + Σ_s' P(s'|s, a) v_π(s')
// The centred v_π solves (I − P_π + 1 μ_πᵀ) v = r_π − r(π)·1, a non-singular system for an ergodic chain.

import Environments
import Foundation
import Randomness

/// A finite continuing MDP: S states, A actions, a stochastic P(s'|s, a) and rewards r(s, a).
public struct ContinuingMDP: Sendable, Codable, Equatable {
    public let stateCount: Int
    public let actionCount: Int
    /// P(s'|s, a), index (s·A + a)·S + s'; every (s, a) row sums to 1.
    public let transitions: [Double]
    /// r(s, a), the expected reward of taking a in s; index s·A + a.
    public let rewards: [Double]

    public init(stateCount: Int, actionCount: Int, transitions: [Double], rewards: [Double]) {
        precondition(transitions.count == stateCount * actionCount * stateCount,
                     "ContinuingMDP: \(transitions.count) transition entries, expected S·A·S")
        precondition(rewards.count == stateCount * actionCount,
                     "ContinuingMDP: \(rewards.count) rewards, expected S·A")
        self.stateCount = stateCount
        self.actionCount = actionCount
        self.transitions = transitions
        self.rewards = rewards
    }

    @inline(__always)
    public func transitionProbability(from state: Int, action: Int, to next: Int) -> Double {
        transitions[(state * actionCount + action) * stateCount + next]
    }

    @inline(__always)
    public func reward(state: Int, action: Int) -> Double { rewards[state * actionCount + action] }

    /// The access-control queuing task (S&B Example 10.2) from the shipped environment's exact dynamics
    /// (`AccessControlQueuing.transition`): 44 states (free servers × priority), actions reject / accept.
    public static func accessControlQueuing() -> ContinuingMDP {
        let stateCount = AccessControlQueuing.stateCount, actionCount = 2
        let priorityCount = AccessControlQueuing.priorities.count
        var transitions = [Double](repeating: 0, count: stateCount * actionCount * stateCount)
        var rewards = [Double](repeating: 0, count: stateCount * actionCount)
        for state in 0..<stateCount {
            for action in 0..<actionCount {
                let outcome = AccessControlQueuing.transition(
                    freeServers: state / priorityCount, priorityIndex: state % priorityCount, accept: action == 1)
                rewards[state * actionCount + action] = outcome.reward
                for (next, probability) in outcome.next {
                    transitions[(state * actionCount + action) * stateCount + next] += probability
                }
            }
        }
        return ContinuingMDP(
            stateCount: stateCount, actionCount: actionCount, transitions: transitions, rewards: rewards)
    }

    /// A random ergodic MDP: every P(·|s, a) drawn from a flat Dirichlet (so every transition has positive
    /// probability), rewards r(s, a) ~ N(0, 1).
    public static func random(
        stateCount: Int, actionCount: Int, using generator: inout SeededGenerator
    ) -> ContinuingMDP {
        var transitions: [Double] = []
        for _ in 0..<(stateCount * actionCount) {
            let draws = (0..<stateCount).map { _ in -log(1 - generator.nextUniform()) + 1e-12 }
            let total = draws.reduce(0, +)
            transitions += draws.map { $0 / total }
        }
        let rewards = (0..<(stateCount * actionCount)).map { _ in generator.nextNormal() }
        return ContinuingMDP(
            stateCount: stateCount, actionCount: actionCount, transitions: transitions, rewards: rewards)
    }
}

/// Exact average-reward quantities of one policy.
public struct AverageRewardEvaluation: Sendable, Codable, Equatable {
    /// r(π).
    public let averageReward: Double
    /// μ_π(s).
    public let stationaryDistribution: [Double]
    /// v_π(s), centred so that μ_π · v_π = 0.
    public let differentialValues: [Double]
    /// q_π(s, a), index s·A + a.
    public let differentialActionValues: [Double]
}

/// Solves μ_π, r(π), v_π and q_π exactly for a stochastic policy π(a|s) (index s·A + a); two S × S solves.
public func evaluateAverageReward(policy probabilities: [Double], on mdp: ContinuingMDP) -> AverageRewardEvaluation {
    let stateCount = mdp.stateCount, actionCount = mdp.actionCount
    precondition(probabilities.count == stateCount * actionCount,
                 "evaluateAverageReward: \(probabilities.count) probabilities for S=\(stateCount) A=\(actionCount)")
    var policyTransition = [Double](repeating: 0, count: stateCount * stateCount)  // P_π: (S, S)
    var policyReward = [Double](repeating: 0, count: stateCount)                   // r_π: (S)
    for state in 0..<stateCount {
        for action in 0..<actionCount {
            let probability = probabilities[state * actionCount + action]
            if probability == 0 { continue }
            policyReward[state] += probability * mdp.reward(state: state, action: action)
            for next in 0..<stateCount {
                policyTransition[state * stateCount + next] +=
                    probability * mdp.transitionProbability(from: state, action: action, to: next)
            }
        }
    }
    // μ (P_π − I) = 0 with the last balance equation replaced by Σ μ = 1: rows of (P_πᵀ − I), then ones.
    var balance = [Double](repeating: 0, count: stateCount * stateCount)
    for row in 0..<stateCount {
        for column in 0..<stateCount {
            balance[row * stateCount + column] =
                row == stateCount - 1 ? 1
                : policyTransition[column * stateCount + row] - (row == column ? 1 : 0)
        }
    }
    var normalisation = [Double](repeating: 0, count: stateCount)
    normalisation[stateCount - 1] = 1
    let stationary = solveLinearSystem(matrix: balance, rightHandSide: normalisation)
    var averageReward = 0.0
    for state in 0..<stateCount { averageReward += stationary[state] * policyReward[state] }
    // (I − P_π + 1 μᵀ) v = r_π − r(π)·1.
    var system = [Double](repeating: 0, count: stateCount * stateCount)
    for row in 0..<stateCount {
        for column in 0..<stateCount {
            system[row * stateCount + column] =
                (row == column ? 1 : 0) - policyTransition[row * stateCount + column] + stationary[column]
        }
    }
    let values = solveLinearSystem(matrix: system, rightHandSide: policyReward.map { $0 - averageReward })
    var actionValues = [Double](repeating: 0, count: stateCount * actionCount)
    for state in 0..<stateCount {
        for action in 0..<actionCount {
            var expectedNext = 0.0
            for next in 0..<stateCount {
                expectedNext += mdp.transitionProbability(from: state, action: action, to: next) * values[next]
            }
            actionValues[state * actionCount + action] =
                mdp.reward(state: state, action: action) - averageReward + expectedNext
        }
    }
    return AverageRewardEvaluation(
        averageReward: averageReward, stationaryDistribution: stationary, differentialValues: values,
        differentialActionValues: actionValues)
}

/// What relative value iteration found.
public struct RelativeValueIterationResult: Sendable, Codable, Equatable {
    /// r* = max_π r(π), the midpoint of the final bounds.
    public let optimalAverageReward: Double
    /// min_s and max_s of (T h − h) at the last sweep: r* lies between them (Odoni's bounds).
    public let lowerBound: Double
    public let upperBound: Double
    public let iterations: Int
    /// h(s) with h(reference state 0) = 0.
    public let differentialValues: [Double]
    /// The greedy action of every state (ties to the lower action).
    public let greedyActions: [Int]
}

/// Relative value iteration: h ← T h − (T h)(0)·1 with (T h)(s) = max_a [r(s, a) + Σ_s' P(s'|s, a) h(s')],
/// until the span of T h − h is below `tolerance`. Converges for a unichain, aperiodic MDP (every
/// transition here keeps some probability of staying put).
public func relativeValueIteration(
    _ mdp: ContinuingMDP, tolerance: Double = 1e-12, maximumIterations: Int = 1_000_000
) -> RelativeValueIterationResult {
    let stateCount = mdp.stateCount, actionCount = mdp.actionCount
    var values = [Double](repeating: 0, count: stateCount)
    var backedUp = values
    var greedy = [Int](repeating: 0, count: stateCount)
    var lower = -Double.infinity, upper = Double.infinity
    var iterations = 0
    while iterations < maximumIterations {
        iterations += 1
        for state in 0..<stateCount {
            var best = -Double.infinity, bestAction = 0
            for action in 0..<actionCount {
                var total = mdp.reward(state: state, action: action)
                let row = (state * actionCount + action) * stateCount
                for next in 0..<stateCount { total += mdp.transitions[row + next] * values[next] }
                if total > best + 1e-15 {
                    best = total
                    bestAction = action
                }
            }
            backedUp[state] = best
            greedy[state] = bestAction
        }
        let differences = (0..<stateCount).map { backedUp[$0] - values[$0] }
        lower = differences.min() ?? 0
        upper = differences.max() ?? 0
        let reference = backedUp[0]
        for state in 0..<stateCount { values[state] = backedUp[state] - reference }
        if upper - lower < tolerance { break }
    }
    return RelativeValueIterationResult(
        optimalAverageReward: (lower + upper) / 2, lowerBound: lower, upperBound: upper, iterations: iterations,
        differentialValues: values, greedyActions: greedy)
}
