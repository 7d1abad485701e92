import Foundation
import Testing
import Randomness
@testable import Training

@Suite struct PolicyGradientTheoremTests {
    @Test func linearSolveNeedsAndUsesPivoting() {
        // A zero leading pivot: elimination without row swaps would divide by zero.
        // 2y + z = 5, x + y = 3, 3x + z = 10  →  (x, y, z) = (2.2, 0.8, 3.4).
        let solution = solveLinearSystem(matrix: [0, 2, 1, 1, 1, 0, 3, 0, 1], rightHandSide: [5, 3, 10])
        for (value, expected) in zip(solution, [2.2, 0.8, 3.4]) { #expect(abs(value - expected) < 1e-12) }
    }

    @Test func exactEvaluationSatisfiesItsIdentities() {
        var generator = SeededGenerator(seed: 17)
        let mdp = TabularMDP.random(stateCount: 5, actionCount: 3, terminationProbability: 0.15, discount: 0.95, using: &generator)
        let policy = TabularSoftmaxPolicy(stateCount: 5, actionCount: 3, logits: (0..<15).map { _ in generator.nextNormal() })
        let evaluation = evaluatePolicy(policy, on: mdp)
        let probabilities = policy.probabilityTable()
        // J = Σ_s d0(s) v(s) = Σ_s μ(s) r_π(s): two routes to the objective.
        var visitationRoute = 0.0
        for state in 0..<5 {
            var policyReward = 0.0, policyValue = 0.0
            for action in 0..<3 {
                policyReward += probabilities[state * 3 + action] * mdp.reward(state: state, action: action)
                policyValue += probabilities[state * 3 + action] * evaluation.actionValues[state * 3 + action]
            }
            visitationRoute += evaluation.discountedVisitation[state] * policyReward
            #expect(abs(policyValue - evaluation.stateValues[state]) < 1e-12)   // v = Σ_a π q
        }
        #expect(abs(visitationRoute - evaluation.objective) < 1e-12)
        // Σ_s μ(s) = expected discounted episode length Σ_t (γ (1 − p_end))^t = 1 / (1 − γ (1 − p_end)).
        let totalVisitation = evaluation.discountedVisitation.reduce(0, +)
        #expect(abs(totalVisitation - 1 / (1 - 0.95 * 0.85)) < 1e-10)
    }

    @Test func theoremAgreesWithFiniteDifferences() {
        for seed: UInt64 in [1, 2, 3] {
            var configuration = PolicyGradientVerificationConfiguration()
            configuration.episodes = 2
            configuration.stateCount = 3 + Int(seed)
            configuration.discount = 0.97
            var generator = SeededGenerator(seed: seed)
            let result = verifyPolicyGradient(configuration, using: &generator)
            #expect(result.finiteDifferenceRelativeError < 1e-6, "seed \(seed): \(result.finiteDifferenceRelativeError)")
            #expect(result.finiteDifferenceAgrees)
            #expect(result.exactGradient.map(abs).max()! > 1e-3)   // not a trivially zero gradient
        }
    }

    @Test func finiteDifferencesCatchAWrongStateWeighting() {
        // Negative control: weighting by d0 instead of the discounted visitation μ must fail the check.
        var generator = SeededGenerator(seed: 4)
        let mdp = TabularMDP.random(stateCount: 4, actionCount: 3, terminationProbability: 0.2, discount: 0.9, using: &generator)
        let policy = TabularSoftmaxPolicy(stateCount: 4, actionCount: 3, logits: (0..<12).map { _ in generator.nextNormal() })
        let evaluation = evaluatePolicy(policy, on: mdp)
        let exact = exactPolicyGradient(policy, on: mdp)
        let wrong = exact.indices.map { index in
            exact[index] / evaluation.discountedVisitation[index / 3] * mdp.startDistribution[index / 3]
        }
        let finiteDifference = finiteDifferencePolicyGradient(policy, on: mdp)
        let scale = exact.map(abs).max()!
        let wrongError = zip(wrong, finiteDifference).map { abs($0 - $1) }.max()! / scale
        #expect(wrongError > 1e-2)
    }

    @Test(arguments: [2026, 1, 6] as [UInt64])
    func monteCarloEstimatesAgreeAndTheBaselineLowersVariance(seed: UInt64) throws {
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 4_000
        var generator = SeededGenerator(seed: seed)
        let result = verifyPolicyGradient(configuration, using: &generator)
        #expect(result.reinforce.agrees, "max |z| \(result.reinforce.maxAbsoluteZScore)")
        #expect(result.reinforceWithBaseline.agrees, "max |z| \(result.reinforceWithBaseline.maxAbsoluteZScore)")
        #expect(result.reinforce.meanSquaredZScore < 4 && result.reinforceWithBaseline.meanSquaredZScore < 4)
        #expect(result.baselineReducesVariance, "variance ratio \(result.varianceRatio)")
        #expect(result.varianceRatio < 0.8)
        #expect(abs(result.meanEpisodeLength - 1 / configuration.terminationProbability) < 0.3)
        #expect(result.passed)
        // The standard errors are small enough that agreement means something.
        let scale = result.exactGradient.map(abs).max()!
        #expect(result.reinforceWithBaseline.statistics.standardError.max()! < 0.1 * scale)
    }

    @Test func baselineNeedNotHelpWhenReturnsAreAlreadyCentred() {
        // With mean-zero rewards, v_π(s) is not a variance-reducing baseline for this MDP: the
        // variance check is a real check, not a certainty.
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 20_000
        configuration.rewardMean = 0
        var generator = SeededGenerator(seed: 2)
        let result = verifyPolicyGradient(configuration, using: &generator)
        #expect(result.reinforce.agrees && result.reinforceWithBaseline.agrees)
        #expect(!result.baselineReducesVariance, "variance ratio \(result.varianceRatio)")
        #expect(!result.passed)
    }

    @Test func resultRoundTripsThroughJSON() throws {
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 50
        var generator = SeededGenerator(seed: 8)
        let result = verifyPolicyGradient(configuration, using: &generator)
        let data = try JSONEncoder().encode(result)
        let decoded = try JSONDecoder().decode(PolicyGradientVerification.self, from: data)
        #expect(decoded == result)
        #expect(result.components.count == configuration.stateCount * configuration.actionCount)
        var again = SeededGenerator(seed: 8)
        #expect(verifyPolicyGradient(configuration, using: &again) == result)
    }
}
