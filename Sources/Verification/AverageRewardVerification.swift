// `verify average-reward`: the exact answers of the continuing case.
//
// 1. The access-control queuing task (S&B Example 10.2): its optimal average reward r* by relative value
//    iteration on the exact dynamics, confirmed two other ways: the greedy policy's r(π) by a linear solve
//    (stationary distribution), and a Monte Carlo run of the shipped environment under that policy.
// 2. The policy gradient theorem for the continuing case (S&B §13.6), on a random ergodic MDP with a
//    softmax table:
//      ∇r(π) = Σ_s μ_π(s) Σ_a q_π(s, a) ∇π(a|s)          (q_π differential; see ContinuingMDP.swift)
//    against central finite differences of r(π) solved exactly, and the expectation of the average-reward
//    actor-critic's update, E[δ ∇ln π(A|S)] with δ = R − r(π) + v_π(S′) − v_π(S), taken through the shipped
//    `MLPActorCritic` on the autograd tape (E[δ | s, a] = q_π(s, a) − v_π(s)).

import Autograd
import Environments
import Foundation
import Randomness

/// What `verify average-reward` checks, and its limits.
public struct AverageRewardVerificationConfiguration: Sendable, Codable, Equatable {
    /// The random MDP of the gradient check.
    public var stateCount = 5
    public var actionCount = 3
    /// h of the central differences, and the largest |FD − exact| accepted (the 1e-6).
    public var finiteDifferenceStep = 1e-5
    public var finiteDifferenceLimit = 1e-6
    /// max |tape − exact| / max |exact| accepted for the shipped module's E[δ ∇ln π] (Float on the tape).
    public var tapeRelativeLimit = 1e-4
    /// Steps of the Monte Carlo run of the queuing task, in batches (standard error from batch means).
    public var simulationSteps = 1_000_000
    public var simulationBatches = 100
    /// |z| accepted between the Monte Carlo average reward and r*.
    public var zScoreLimit = 4.0
    /// Relative value iteration stops when the span of T h − h is below this.
    public var valueIterationTolerance = 1e-12
    public init() {}
}

/// Everything `verify average-reward` reports (`Codable` for `--json`).
public struct AverageRewardVerification: Sendable, Codable, Equatable {
    public let configuration: AverageRewardVerificationConfiguration
    /// The queuing task.
    public let optimalAverageReward: Double
    public let valueIterationBounds: [Double]
    public let valueIterationIterations: Int
    /// The greedy policy's r(π) by the stationary distribution (linear solve).
    public let greedyPolicyAverageReward: Double
    /// Per priority (1, 2, 4, 8), the fewest free servers at which the optimal policy accepts (nil: never).
    public let acceptanceThresholds: [Int?]
    /// Monte Carlo average reward of the shipped environment under the greedy policy, and its standard error.
    public let simulatedAverageReward: Double
    public let simulatedStandardError: Double
    /// The continuing policy-gradient check: r(π) of the random MDP's policy, ∇r three ways (index s·A + a).
    public let randomAverageReward: Double
    public let exactGradient: [Double]
    public let finiteDifferenceGradient: [Double]
    /// max |FD − exact|.
    public let finiteDifferenceMaximumError: Double
    /// E[δ ∇ln π] through the shipped module, in the actor's layout (W (A, S) then b), and its error.
    public let tapeGradient: [Double]
    public let tapeRelativeError: Double
    public let checks: [VerificationCheck]
    public var passed: Bool { checks.allSatisfy(\.passed) }
}

/// Runs every check; the random MDP, its policy and the simulation draw from `generator`.
public func verifyAverageReward(
    _ configuration: AverageRewardVerificationConfiguration, using generator: inout SeededGenerator
) throws -> AverageRewardVerification {
    // 1. The queuing task.
    let queue = ContinuingMDP.accessControlQueuing()
    let solution = relativeValueIteration(queue, tolerance: configuration.valueIterationTolerance)
    var greedyPolicy = [Double](repeating: 0, count: queue.stateCount * queue.actionCount)
    for state in 0..<queue.stateCount { greedyPolicy[state * queue.actionCount + solution.greedyActions[state]] = 1 }
    let greedyEvaluation = evaluateAverageReward(policy: greedyPolicy, on: queue)
    let priorityCount = AccessControlQueuing.priorities.count
    let thresholds: [Int?] = (0..<priorityCount).map { priority in
        (1...AccessControlQueuing.serverCount).first { free in
            solution.greedyActions[AccessControlQueuing.stateIndex(freeServers: free, priorityIndex: priority)] == 1
        }
    }
    let simulation = try simulateQueue(
        greedyActions: solution.greedyActions, steps: configuration.simulationSteps,
        batches: configuration.simulationBatches, using: &generator)

    // 2. The continuing policy gradient theorem on a random MDP.
    let mdp = ContinuingMDP.random(
        stateCount: configuration.stateCount, actionCount: configuration.actionCount, using: &generator)
    let logits = (0..<(mdp.stateCount * mdp.actionCount)).map { _ in Float(generator.nextNormal()) }
    let policy = TabularSoftmaxPolicy(
        stateCount: mdp.stateCount, actionCount: mdp.actionCount, logits: logits.map(Double.init))
    let evaluation = evaluateAverageReward(policy: policy.probabilityTable(), on: mdp)
    let exact = exactAverageRewardGradient(policy, on: mdp)
    let finiteDifferences = policy.logits.indices.map { index in
        var plus = policy, minus = policy
        plus.logits[index] += configuration.finiteDifferenceStep
        minus.logits[index] -= configuration.finiteDifferenceStep
        let up = evaluateAverageReward(policy: plus.probabilityTable(), on: mdp).averageReward
        let down = evaluateAverageReward(policy: minus.probabilityTable(), on: mdp).averageReward
        return (up - down) / (2 * configuration.finiteDifferenceStep)
    }
    let finiteDifferenceError = zip(exact, finiteDifferences).map { abs($0 - $1) }.max() ?? 0

    // E[δ ∇ln π] through the shipped module: weights g(s, a) = μ(s) π(a|s) (q(s, a) − v(s)) on log π(a|s).
    let module = try TabularActorCritic(
        logits: logits, stateValues: [Float](repeating: 0, count: mdp.stateCount), stateCount: mdp.stateCount,
        actionCount: mdp.actionCount)
    var states: [Int] = [], actions: [Int] = [], weights: [Double] = []
    let probabilities = policy.probabilityTable()
    for state in 0..<mdp.stateCount {
        for action in 0..<mdp.actionCount {
            let index = state * mdp.actionCount + action
            states.append(state)
            actions.append(action)
            weights.append(
                evaluation.stationaryDistribution[state] * probabilities[index]
                    * (evaluation.differentialActionValues[index] - evaluation.differentialValues[state]))
        }
    }
    let tape = module.tapeGradients(states: states, actions: actions, logProbabilityGradient: weights).actor
    let exactLayout = module.actorLayout(ofLogitGradient: exact)
    let scale = exactLayout.map(abs).max() ?? 1
    let tapeError = (zip(tape, exactLayout).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-300)

    let z = (simulation.mean - solution.optimalAverageReward) / max(simulation.standardError, 1e-300)
    let checks = [
        VerificationCheck(
            name: "queue: span of relative value iteration's bounds", figure: solution.upperBound - solution.lowerBound,
            limit: configuration.valueIterationTolerance * 10,
            passed: solution.upperBound - solution.lowerBound < configuration.valueIterationTolerance * 10),
        VerificationCheck(
            name: "queue: |r(greedy) by linear solve − r*|",
            figure: abs(greedyEvaluation.averageReward - solution.optimalAverageReward), limit: 1e-9,
            passed: abs(greedyEvaluation.averageReward - solution.optimalAverageReward) < 1e-9),
        VerificationCheck(
            name: "queue: |z| of the shipped environment's Monte Carlo r(greedy) vs r*", figure: abs(z),
            limit: configuration.zScoreLimit, passed: abs(z) <= configuration.zScoreLimit),
        VerificationCheck(
            name: "continuing ∇r(π): max |finite differences − theorem|", figure: finiteDifferenceError,
            limit: configuration.finiteDifferenceLimit,
            passed: finiteDifferenceError <= configuration.finiteDifferenceLimit),
        VerificationCheck(
            name: "continuing ∇r(π): E[δ ∇ln π] on the shipped tape, max relative error", figure: tapeError,
            limit: configuration.tapeRelativeLimit, passed: tapeError <= configuration.tapeRelativeLimit),
    ]
    return AverageRewardVerification(
        configuration: configuration, optimalAverageReward: solution.optimalAverageReward,
        valueIterationBounds: [solution.lowerBound, solution.upperBound],
        valueIterationIterations: solution.iterations, greedyPolicyAverageReward: greedyEvaluation.averageReward,
        acceptanceThresholds: thresholds, simulatedAverageReward: simulation.mean,
        simulatedStandardError: simulation.standardError, randomAverageReward: evaluation.averageReward,
        exactGradient: exact, finiteDifferenceGradient: finiteDifferences,
        finiteDifferenceMaximumError: finiteDifferenceError, tapeGradient: tape, tapeRelativeError: tapeError,
        checks: checks)
}

/// ∇r(π) by the continuing policy gradient theorem, index s·A + b:
/// ∂r/∂θ[s, b] = μ_π(s) Σ_a q_π(s, a) π(a|s) (1[a = b] − π(b|s)).
public func exactAverageRewardGradient(_ policy: TabularSoftmaxPolicy, on mdp: ContinuingMDP) -> [Double] {
    let evaluation = evaluateAverageReward(policy: policy.probabilityTable(), on: mdp)
    return softmaxPolicyGradient(
        policy, stateWeights: evaluation.stationaryDistribution, actionValues: evaluation.differentialActionValues)
}

/// The shipped `AccessControlQueuing` run for `steps` under a deterministic policy (action per state index):
/// the mean reward per step and its standard error from `batches` batch means.
func simulateQueue(
    greedyActions: [Int], steps: Int, batches: Int, using generator: inout SeededGenerator
) throws -> (mean: Double, standardError: Double) {
    var environment = AccessControlQueuing()
    _ = environment.reset(generator: &generator)
    let perBatch = max(steps / max(batches, 1), 1)
    var batchMeans: [Double] = []
    for _ in 0..<max(batches, 1) {
        var total = 0.0
        for _ in 0..<perBatch {
            let state = AccessControlQueuing.stateIndex(
                freeServers: environment.freeServers, priorityIndex: environment.priorityIndex)
            total += try environment.step(.discrete(greedyActions[state])).reward
        }
        batchMeans.append(total / Double(perBatch))
    }
    let mean = batchMeans.reduce(0, +) / Double(batchMeans.count)
    let variance = batchMeans.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(batchMeans.count - 1, 1))
    return (mean, (variance / Double(batchMeans.count)).squareRoot())
}
