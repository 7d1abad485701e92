import Environments
import Foundation
import Randomness
import TestSupport
import Testing
import Training
@testable import Verification

@Suite struct AverageRewardTests {
    /// The fixture written by scripts/access_control_reference.py (numpy, policy iteration, coded apart).
    struct Reference: Decodable {
        let optimal_average_reward: Double
        let acceptance_thresholds: [Int?]
        let accept_all_average_reward: Double
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(
            Reference.self,
            from: Data(contentsOf: FixtureDirectory.url(of: "VerificationTests", file: "access-control-queuing.json")))
    }

    @Test func relativeValueIterationMatchesAnIndependentSolution() throws {
        let reference = try reference()
        let queue = ContinuingMDP.accessControlQueuing()
        for row in 0..<(queue.stateCount * queue.actionCount) {
            let total = queue.transitions[(row * queue.stateCount)..<((row + 1) * queue.stateCount)].reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
        }
        let solution = relativeValueIteration(queue)
        #expect(abs(solution.optimalAverageReward - reference.optimal_average_reward) < 1e-9)
        #expect(solution.upperBound - solution.lowerBound < 1e-11)
        for (priority, threshold) in reference.acceptance_thresholds.enumerated() {
            let accepting = (1...AccessControlQueuing.serverCount).first {
                solution.greedyActions[AccessControlQueuing.stateIndex(freeServers: $0, priorityIndex: priority)] == 1
            }
            #expect(accepting == threshold)
        }
        // Accepting everyone, evaluated by the stationary distribution, matches the reference too.
        let acceptAll = (0..<queue.stateCount).flatMap { _ in [0.0, 1.0] }
        let evaluation = evaluateAverageReward(policy: acceptAll, on: queue)
        #expect(abs(evaluation.averageReward - reference.accept_all_average_reward) < 1e-9)
        #expect(abs(evaluation.stationaryDistribution.reduce(0, +) - 1) < 1e-12)
    }

    @Test func verificationPassesEveryCheck() throws {
        var configuration = AverageRewardVerificationConfiguration()
        configuration.simulationSteps = 200_000
        var generator = SeededGenerator(seed: 2026)
        let result = try verifyAverageReward(configuration, using: &generator)
        for check in result.checks { #expect(check.passed, "\(check.name): \(check.figure) vs \(check.limit)") }
        #expect(result.finiteDifferenceMaximumError <= 1e-6)
        // The theorem's gradient is not trivially small.
        #expect((result.exactGradient.map(abs).max() ?? 0) > 1e-3)
    }

    @Test func theoremFailsForAWrongWeighting() {
        // The check can fail: weighting by a uniform state distribution instead of μ_π breaks agreement.
        var generator = SeededGenerator(seed: 5)
        let mdp = ContinuingMDP.random(stateCount: 4, actionCount: 2, using: &generator)
        let policy = TabularSoftmaxPolicy(
            stateCount: 4, actionCount: 2, logits: (0..<8).map { _ in generator.nextNormal() })
        let evaluation = evaluateAverageReward(policy: policy.probabilityTable(), on: mdp)
        let exact = exactAverageRewardGradient(policy, on: mdp)
        let wrong = exact.indices.map { exact[$0] / evaluation.stationaryDistribution[$0 / 2] / 4 }
        #expect(zip(exact, wrong).map { abs($0 - $1) }.max()! > 1e-3)
    }

    @Test func queueDynamics() throws {
        var queue = AccessControlQueuing()
        _ = try queue.reset(state: [0, 8])
        #expect(try queue.step(.discrete(1)).reward == 0)  // no server free: rejected whatever the action
        _ = try queue.reset(state: [3, 4])
        let accepted = try queue.step(.discrete(1))
        #expect(accepted.reward == 4)
        #expect(queue.freeServers >= 2 && !accepted.terminated && !accepted.truncated)
        #expect(accepted.observation.reduce(0, +) == 1 && accepted.observation.count == 44)
        #expect(throws: EnvironmentError.self) { try queue.reset(state: [11, 4]) }
        #expect(throws: EnvironmentError.self) { try queue.reset(state: [3, 3]) }
        #expect(throws: EnvironmentError.self) { try queue.step(.discrete(2)) }
        #expect(queue.isContinuing && !CartPole().isContinuing)
    }

    /// Seeded learning: the greedy policy of the average-reward actor-critic reaches ≥ 95 % of r*.
    @Test func averageRewardActorCriticReachesTheOptimum() throws {
        let optimum = relativeValueIteration(.accessControlQueuing()).optimalAverageReward
        var config = AverageRewardActorCriticConfig()
        config.seed = 1
        config.evaluationSteps = 50_000
        var averageRewards: [Double] = []
        let result = try AverageRewardActorCriticTrainer(config: config).train(events: { event in
            if case .metrics(_, _, let values) = event, let value = values["average_reward"] {
                averageRewards.append(value)
            }
        })
        #expect(
            result.evaluationAverageReward >= 0.95 * optimum,
            "greedy \(result.evaluationAverageReward) vs r* \(optimum)")
        #expect(abs(result.averageRewardEstimate - optimum) < 0.25 * optimum)
        #expect(averageRewards.count == config.totalSteps / config.logInterval + 1)
    }
}
