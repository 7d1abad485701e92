// `policylab verify policy-gradient`: the lab's check that the policy gradient theorem, its code
// and its Monte Carlo estimators agree on a random tabular MDP.
//
// Three facts are checked (see PolicyGradientTheorem.swift and MonteCarloPolicyGradient.swift):
//   1. the theorem's exact gradient equals central finite differences of the exactly solved J,
//      to `finiteDifferenceTolerance` in max-norm relative error;
//   2. REINFORCE and REINFORCE-with-baseline means lie within `zScoreLimit` standard errors of
//      the exact gradient in every component (|mean − exact| ≤ limit · SE);
//   3. the baseline b(s) = v_π(s) lowers the total per-episode variance (the sum over components;
//      v_π is a good but not the variance-optimal baseline, so this is a property of the MDP drawn —
//      see `rewardMean`).

import Randomness

/// Parameters of one verification run.
public struct PolicyGradientVerificationConfiguration: Sendable, Codable, Equatable {
    /// S, number of states.
    public var stateCount: Int = 4
    /// A, number of actions.
    public var actionCount: Int = 3
    /// γ.
    public var discount: Double = 0.9
    /// p_end, probability per step that the episode ends (mean length 1 / p_end).
    public var terminationProbability: Double = 0.2
    /// Mean of the random rewards r(s, a) ~ N(mean, 1). With mean-zero rewards the returns are
    /// already centred and b(s) = v_π(s) need not lower the variance (measured: seed 2 gives a
    /// variance ratio of 1.04 at mean 0); a common offset, as in most control tasks, is what the
    /// baseline removes.
    public var rewardMean: Double = 1.0
    /// Standard deviation of the random logits θ ~ N(0, σ²).
    public var logitScale: Double = 1.0
    /// N, Monte Carlo episodes.
    public var episodes: Int = 20_000
    /// h of the central differences.
    public var finiteDifferenceStep: Double = 1e-5
    /// Largest accepted max-norm relative error of the finite differences.
    public var finiteDifferenceTolerance: Double = 1e-6
    /// Largest accepted |bias| / SE per component.
    public var zScoreLimit: Double = 4

    public init() {}
}

/// One estimator's agreement with the exact gradient.
public struct EstimatorReport: Sendable, Codable, Equatable {
    public let statistics: GradientEstimateStatistics
    /// mean − exact, index s·A + a.
    public let bias: [Double]
    /// max over components of |bias| / SE (a component with SE = 0 counts 0 when its bias is 0, else the largest finite Double).
    public let maxAbsoluteZScore: Double
    /// mean over components of (bias / SE)²; near 1 when only sampling noise separates mean and exact.
    public let meanSquaredZScore: Double
    /// max |z| ≤ the configured limit.
    public let agrees: Bool
}

/// One row of the table the CLI prints: one parameter θ[s, a].
public struct PolicyGradientComponent: Sendable, Codable, Equatable {
    public let state: Int
    public let action: Int
    public let exact: Double
    public let finiteDifference: Double
    public let reinforceMean: Double
    public let reinforceStandardError: Double
    public let baselineMean: Double
    public let baselineStandardError: Double
}

/// Everything `verify policy-gradient` reports (`Codable` for `--json`).
public struct PolicyGradientVerification: Sendable, Codable, Equatable {
    public let configuration: PolicyGradientVerificationConfiguration
    public let mdp: TabularMDP
    public let policy: TabularSoftmaxPolicy
    /// J(θ).
    public let objective: Double
    /// Policy gradient theorem, index s·A + a.
    public let exactGradient: [Double]
    public let finiteDifferenceGradient: [Double]
    /// max |FD − exact| / max |exact|.
    public let finiteDifferenceRelativeError: Double
    public let reinforce: EstimatorReport
    public let reinforceWithBaseline: EstimatorReport
    /// Mean number of steps per sampled episode.
    public let meanEpisodeLength: Double
    /// Per-parameter table.
    public let components: [PolicyGradientComponent]

    public var finiteDifferenceAgrees: Bool { finiteDifferenceRelativeError <= configuration.finiteDifferenceTolerance }
    /// Total variance of REINFORCE-with-baseline over that of plain REINFORCE (< 1 when the baseline helps).
    public var varianceRatio: Double { reinforceWithBaseline.statistics.totalVariance / reinforce.statistics.totalVariance }
    public var baselineReducesVariance: Bool { varianceRatio < 1 }
    /// All three facts hold.
    public var passed: Bool {
        finiteDifferenceAgrees && reinforce.agrees && reinforceWithBaseline.agrees && baselineReducesVariance
    }
}

/// Draws a random MDP and softmax policy from `generator`, then computes the exact gradient, its
/// finite-difference check and the two Monte Carlo estimates. Cost: O(S·A) exact solves for the
/// finite differences plus N episodes of mean length 1 / p_end.
public func verifyPolicyGradient(
    _ configuration: PolicyGradientVerificationConfiguration = .init(), using generator: inout SeededGenerator
) -> PolicyGradientVerification {
    let stateCount = configuration.stateCount, actionCount = configuration.actionCount
    var environmentGenerator = generator.split()
    var episodeGenerator = generator.split()
    let mdp = TabularMDP.random(
        stateCount: stateCount, actionCount: actionCount, terminationProbability: configuration.terminationProbability,
        discount: configuration.discount, rewardMean: configuration.rewardMean, using: &environmentGenerator)
    let logits = (0..<(stateCount * actionCount)).map { _ in configuration.logitScale * environmentGenerator.nextNormal() }
    let policy = TabularSoftmaxPolicy(stateCount: stateCount, actionCount: actionCount, logits: logits)

    let objective = evaluatePolicy(policy, on: mdp).objective
    let exact = exactPolicyGradient(policy, on: mdp)
    let finiteDifference = finiteDifferencePolicyGradient(policy, on: mdp, step: configuration.finiteDifferenceStep)
    let largestExact = exact.map(abs).max() ?? 0
    let largestDifference = zip(finiteDifference, exact).map { abs($0 - $1) }.max() ?? 0
    let relativeError = largestExact > 0 ? largestDifference / largestExact : largestDifference

    let estimates = monteCarloPolicyGradients(policy, on: mdp, episodes: configuration.episodes, using: &episodeGenerator)
    let reinforce = report(estimates.reinforce, exact: exact, zScoreLimit: configuration.zScoreLimit)
    let withBaseline = report(estimates.reinforceWithBaseline, exact: exact, zScoreLimit: configuration.zScoreLimit)

    let components = exact.indices.map { index in
        PolicyGradientComponent(
            state: index / actionCount, action: index % actionCount, exact: exact[index],
            finiteDifference: finiteDifference[index],
            reinforceMean: estimates.reinforce.mean[index],
            reinforceStandardError: estimates.reinforce.standardError[index],
            baselineMean: estimates.reinforceWithBaseline.mean[index],
            baselineStandardError: estimates.reinforceWithBaseline.standardError[index])
    }
    return PolicyGradientVerification(
        configuration: configuration, mdp: mdp, policy: policy, objective: objective, exactGradient: exact,
        finiteDifferenceGradient: finiteDifference, finiteDifferenceRelativeError: relativeError,
        reinforce: reinforce, reinforceWithBaseline: withBaseline, meanEpisodeLength: estimates.meanEpisodeLength,
        components: components)
}

private func report(_ statistics: GradientEstimateStatistics, exact: [Double], zScoreLimit: Double) -> EstimatorReport {
    let bias = zip(statistics.mean, exact).map { $0 - $1 }
    let zScores = bias.indices.map { index -> Double in
        let standardError = statistics.standardError[index]
        if standardError > 0 { return bias[index] / standardError }
        // Largest finite value rather than infinity, so `--json` can encode it.
        return bias[index] == 0 ? 0 : .greatestFiniteMagnitude
    }
    let maxAbsolute = zScores.map(abs).max() ?? 0
    let meanSquared = zScores.map { $0 * $0 }.reduce(0, +) / Double(max(zScores.count, 1))
    return EstimatorReport(
        statistics: statistics, bias: bias, maxAbsoluteZScore: maxAbsolute, meanSquaredZScore: meanSquared,
        agrees: maxAbsolute <= zScoreLimit)
}
