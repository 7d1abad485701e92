import Foundation
import Objectives
import Randomness
import Testing
@testable import Verification

@Suite struct PolicyGradientTheoremTests {
    @Test func linearSolveNeedsAndUsesPivoting() {
        // A zero leading pivot: elimination without row swaps would divide by zero.
        // 2y + z = 5, x + y = 3, 3x + z = 10  →  (x, y, z) = (2.2, 0.8, 3.4).
        let solution = solveLinearSystem(matrix: [0, 2, 1, 1, 1, 0, 3, 0, 1], rightHandSide: [5, 3, 10])
        for (value, expected) in zip(solution, [2.2, 0.8, 3.4]) { #expect(abs(value - expected) < 1e-12) }
    }

    @Test func exactEvaluationSatisfiesItsIdentities() {
        var generator = SeededGenerator(seed: 17)
        let mdp = TabularMDP.random(
            stateCount: 5, actionCount: 3, terminationProbability: 0.15, discount: 0.95, using: &generator)
        let policy = TabularSoftmaxPolicy(
            stateCount: 5, actionCount: 3, logits: (0..<15).map { _ in generator.nextNormal() })
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
        // Σ_s μ(s) = expected discounted episode length Σ_t (γ (1 − p_end))^t = 1 / (1 − γ (1 − p_end));
        // Σ_s η(s) = expected episode length 1 / p_end.
        let totalVisitation = evaluation.discountedVisitation.reduce(0, +)
        #expect(abs(totalVisitation - 1 / (1 - 0.95 * 0.85)) < 1e-10)
        #expect(abs(evaluation.undiscountedVisitation.reduce(0, +) - 1 / 0.15) < 1e-10)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theoremAgreesWithFiniteDifferences(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let stateCount = 3 + Int(seed)
        let mdp = TabularMDP.random(
            stateCount: stateCount, actionCount: 3, terminationProbability: 0.1, discount: 0.97, using: &generator)
        let policy = TabularSoftmaxPolicy(
            stateCount: stateCount, actionCount: 3, logits: (0..<(stateCount * 3)).map { _ in generator.nextNormal() })
        let exact = exactPolicyGradient(policy, on: mdp)
        let error = maxNormRelativeError(finiteDifferencePolicyGradient(policy, on: mdp), exact)
        #expect(error < 1e-6, "seed \(seed): \(error)")
        #expect(exact.map(abs).max()! > 1e-3)   // not a trivially zero gradient
    }

    @Test func finiteDifferencesCatchAWrongStateWeighting() {
        // Negative controls: weighting by d0, or by the undiscounted visitation η (what dropping γ^t
        // estimates), instead of the discounted visitation μ must fail the check.
        var generator = SeededGenerator(seed: 4)
        let mdp = TabularMDP.random(
            stateCount: 4, actionCount: 3, terminationProbability: 0.2, discount: 0.9, using: &generator)
        let policy = TabularSoftmaxPolicy(
            stateCount: 4, actionCount: 3, logits: (0..<12).map { _ in generator.nextNormal() })
        let evaluation = evaluatePolicy(policy, on: mdp)
        let exact = exactPolicyGradient(policy, on: mdp)
        let startWeighted = exact.indices.map { index in
            exact[index] / evaluation.discountedVisitation[index / 3] * mdp.startDistribution[index / 3]
        }
        let finiteDifference = finiteDifferencePolicyGradient(policy, on: mdp)
        #expect(maxNormRelativeError(startWeighted, finiteDifference) > 1e-2)
        let unweighted = expectedPolicyGradientEstimate(policy, on: mdp, weighting: .unweighted)
        #expect(maxNormRelativeError(unweighted, finiteDifference) > 1e-2)
        #expect(maxNormRelativeError(exact, finiteDifference) < 1e-6)
    }

    /// The shipped estimators at a quick size: every check passes, and the z-test has the power to see
    /// the bias of dropping γ^t (so a γ^t-weighted estimator that lost its factor would fail).
    @Test(arguments: [2026, 1] as [UInt64])
    func shippedEstimatorsAgreeWithTheTheorem(seed: UInt64) throws {
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 8_000
        var generator = SeededGenerator(seed: seed)
        let result = try verifyPolicyGradient(configuration, using: &generator)
        for check in result.checks { #expect(check.passed, "seed \(seed): \(check.name) = \(check.figure)") }
        #expect(result.passed)
        #expect(result.estimators.count == 10)
        for report in result.estimators {
            #expect(report.meanSquaredZScore < 4, "\(report.name): mean z² \(report.meanSquaredZScore)")
            if report.estimator.weighting == .unweighted {
                #expect(report.maxAbsoluteZScoreAgainstGradient > configuration.zScoreLimit,
                        "\(report.name) should be visibly biased against ∇J")
            }
        }
        #expect(result.unweightedRelativeBias > 0.1)
        #expect(result.finiteDifferenceRelativeError < 1e-6)
        #expect(result.varianceRatio < 0.8)
        #expect(abs(result.meanEpisodeLength - 1 / configuration.terminationProbability) < 0.3)
        // The standard errors are small enough that agreement means something.
        let scale = result.exactGradient.map(abs).max()!
        let baseline = try #require(
            result.estimators.first { $0.estimator == .reinforce(baseline: true, weighting: .theorem) })
        #expect(baseline.standardError.max()! < 0.1 * scale)
    }

    @Test func baselineNeedNotHelpWhenReturnsAreAlreadyCentred() throws {
        // With mean-zero rewards, v_π(s) is not a variance-reducing baseline for this MDP: the
        // variance check is a real check, not a certainty.
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 20_000
        configuration.rewardMean = 0
        var generator = SeededGenerator(seed: 2)
        let result = try verifyPolicyGradient(configuration, using: &generator)
        #expect(result.estimators.allSatisfy { $0.agrees })
        #expect(!result.baselineReducesVariance, "variance ratio \(result.varianceRatio)")
        #expect(!result.passed)
    }

    @Test func resultRoundTripsThroughJSONAndRepeats() throws {
        var configuration = PolicyGradientVerificationConfiguration()
        configuration.episodes = 200
        configuration.traceEpisodes = 2
        var generator = SeededGenerator(seed: 8)
        let result = try verifyPolicyGradient(configuration, using: &generator)
        let data = try JSONEncoder().encode(result)
        let decoded = try JSONDecoder().decode(PolicyGradientVerification.self, from: data)
        #expect(decoded == result)
        #expect(result.exactGradient.count == configuration.stateCount * configuration.actionCount
            + configuration.actionCount)
        var again = SeededGenerator(seed: 8)
        #expect(try verifyPolicyGradient(configuration, using: &again) == result)
    }
}
