// `policylab verify policy-gradient`: the lab's check that the policy gradient theorem and the lab's
// shipped estimators agree on a random tabular MDP.
//
// The shipped pieces run unchanged: `MLPActorCritic` (one-hot states, no hidden layer, so a softmax
// table; TabularActorCritic.swift) draws the actions with `act` and differentiates with `evaluate` on the
// tape; `discountedReturns`, `generalizedAdvantages`, `reinforceLoss`, `ppoLoss` and
// `eligibilityTraceUpdate` compute what the trainers compute (ShippedEstimators.swift,
// ObjectiveIdentities.swift). Checks:
//   1. the theorem's exact ∇J equals central finite differences of the exactly solved J (max-norm
//      relative error ≤ `finiteDifferenceTolerance`);
//   2. each estimator's mean over the batches lies within `zScoreLimit` standard errors of its exact
//      expectation in every component: ∇J for the γ^t-weighted estimators, the η-weighted sum for the
//      unweighted ones (PolicyGradientTheorem.swift). With |z| ≤ 4 per component, a correct estimator
//      fails by chance with probability about 6e-5 per component (normal approximation; under 1 % over
//      all components of all estimators);
//   3. the bias of the unweighted estimators (the trainers' default) against ∇J is reported: the exact
//      relative bias, and the estimators' z-scores against ∇J;
//   4. the critic as baseline lowers the total per-episode variance of REINFORCE (v_π is a good but not
//      the variance-optimal baseline, so this is a property of the MDP drawn; see `rewardMean`);
//   5. PPO's gradient at ratio 1 is the policy gradient; GAE(λ = 1) is the Monte Carlo advantage; the
//      actor-critic(λ) trace update is the forward-view λ-return update (offline).

import Objectives
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
    /// K, Monte Carlo episodes in all.
    public var episodes: Int = 20_000
    /// B, episodes per batch (one update's worth; the REINFORCE trainer's default of 8 environments).
    /// Standard errors come from the spread of the K / B batch estimates.
    public var episodesPerBatch: Int = 8
    /// n of the A2C estimators' n-step returns (1 is one-step actor-critic).
    public var actorCriticSteps: [Int] = [1, 4]
    /// λ of the GAE advantages in the PPO estimator (CleanRL's default).
    public var ppoLambda: Double = 0.95
    /// λ and step size α of the actor-critic(λ) trace check, and the number of episodes it runs.
    public var traceLambda: Double = 0.9
    public var traceStepSize: Double = 1e-3
    public var traceEpisodes: Int = 16
    /// h of the central differences.
    public var finiteDifferenceStep: Double = 1e-5
    /// Largest accepted max-norm relative error of the finite differences.
    public var finiteDifferenceTolerance: Double = 1e-6
    /// Largest accepted |mean − expectation| / SE per component.
    public var zScoreLimit: Double = 4
    /// Largest accepted relative error of the identities computed in Double (GAE, PPO's finite differences).
    public var identityTolerance: Double = 1e-9
    /// Largest accepted relative error of identities whose two sides pass through the Float32 tape.
    public var tapeTolerance: Double = 1e-5

    public init() {}

    /// The estimators compared with the exact gradient, γ^t-weighted first.
    public var estimators: [ShippedEstimator] {
        DiscountWeighting.allCases.reversed().flatMap { weighting -> [ShippedEstimator] in
            [.reinforce(baseline: false, weighting: weighting), .reinforce(baseline: true, weighting: weighting)]
                + actorCriticSteps.map { .actorCritic(steps: $0, weighting: weighting) }
                + [.ppo(lambda: ppoLambda, weighting: weighting)]
        }
    }
}

/// One estimator's agreement with its exact expectation.
public struct EstimatorReport: Sendable, Codable, Equatable {
    public let name: String
    public let estimator: ShippedEstimator
    /// Mean of the batch estimates (per-episode scale), in the actor's parameter layout.
    public let mean: [Double]
    /// Standard error of that mean.
    public let standardError: [Double]
    /// Σ over components of the per-episode variance (batch variance × B).
    public let totalVariance: Double
    /// (mean − expectation) / SE per component, where the expectation is ∇J for γ^t weighting and the
    /// η-weighted sum for unweighted estimators.
    public let zScores: [Double]
    public let maxAbsoluteZScore: Double
    /// Mean of z²; near 1 when only sampling noise separates mean and expectation.
    public let meanSquaredZScore: Double
    /// max |z| against ∇J itself: the same as `maxAbsoluteZScore` for γ^t weighting; for the unweighted
    /// estimators it measures the bias of dropping γ^t.
    public let maxAbsoluteZScoreAgainstGradient: Double
    public let agrees: Bool
}

/// One line of the verdict: what was checked, the figure, the limit and the outcome.
public struct VerificationCheck: Sendable, Codable, Equatable {
    public let name: String
    public let figure: Double
    public let limit: Double
    public let passed: Bool
}

/// Everything `verify policy-gradient` reports (`Codable` for `--json`).
public struct PolicyGradientVerification: Sendable, Codable, Equatable {
    public let configuration: PolicyGradientVerificationConfiguration
    public let mdp: TabularMDP
    public let policy: TabularSoftmaxPolicy
    /// J(θ).
    public let objective: Double
    /// Names of the compared parameters (the module's actor weights and biases).
    public let parameterNames: [String]
    /// ∇J by the policy gradient theorem, in the actor's parameter layout.
    public let exactGradient: [Double]
    /// The exact expectation of the estimators without γ^t (state weights η instead of μ).
    public let unweightedExpectation: [Double]
    public let finiteDifferenceGradient: [Double]
    /// max |FD − exact| / max |exact|.
    public let finiteDifferenceRelativeError: Double
    /// max |E[unweighted] − ∇J| / max |∇J|, and the cosine between them: the exact bias of dropping γ^t.
    public let unweightedRelativeBias: Double
    public let unweightedCosine: Double
    public let estimators: [EstimatorReport]
    /// Total variance of REINFORCE with the critic as baseline over that without (γ^t weighting).
    public let varianceRatio: Double
    /// PPO at ratio 1 against `reinforceLoss` on the tape (max over batches), and `ppoLoss`'s analytic
    /// ∂L/∂log π against its central differences.
    public let ppoTapeRelativeError: Double
    public let ppoFiniteDifferenceError: Double
    /// GAE(λ = 1) against `discountedReturns` − V (max over the batches checked).
    public let gaeMonteCarloRelativeError: Double
    /// Backward (traces) against forward (λ-return) view of actor-critic(λ), max over episodes.
    public let traceForwardViewRelativeError: Double
    /// Mean number of steps per sampled episode.
    public let meanEpisodeLength: Double
    public let checks: [VerificationCheck]

    public var finiteDifferenceAgrees: Bool { finiteDifferenceRelativeError <= configuration.finiteDifferenceTolerance }
    public var baselineReducesVariance: Bool { varianceRatio < 1 }
    /// Every check holds.
    public var passed: Bool { checks.allSatisfy(\.passed) }
}

/// Draws a random MDP and softmax policy from `generator`, then runs every check. Cost: O(S·A) exact
/// solves for the finite differences, K episodes of mean length 1 / p_end, and one forward and backward
/// pass of the module per estimator per batch.
public func verifyPolicyGradient(
    _ configuration: PolicyGradientVerificationConfiguration = .init(), using generator: inout SeededGenerator
) throws -> PolicyGradientVerification {
    let stateCount = configuration.stateCount, actionCount = configuration.actionCount
    let gamma = configuration.discount
    precondition(configuration.episodesPerBatch >= 1 && configuration.episodes >= 2 * configuration.episodesPerBatch,
                 "verifyPolicyGradient needs at least two batches: \(configuration.episodes) episodes, "
                    + "\(configuration.episodesPerBatch) per batch")
    var environmentGenerator = generator.split()
    var episodeGenerator = generator.split()
    let mdp = TabularMDP.random(
        stateCount: stateCount, actionCount: actionCount, terminationProbability: configuration.terminationProbability,
        discount: gamma, rewardMean: configuration.rewardMean, using: &environmentGenerator)
    // Logits rounded to Float first, so the module and the exact side hold the same numbers.
    let logits = (0..<(stateCount * actionCount)).map { _ in
        Float(configuration.logitScale * environmentGenerator.nextNormal())
    }
    let policy = TabularSoftmaxPolicy(stateCount: stateCount, actionCount: actionCount, logits: logits.map(Double.init))
    let evaluation = evaluatePolicy(policy, on: mdp)
    let module = try TabularActorCritic(
        logits: logits, stateValues: evaluation.stateValues.map(Float.init),
        stateCount: stateCount, actionCount: actionCount)

    let exact = module.actorLayout(ofLogitGradient: exactPolicyGradient(policy, on: mdp))
    let unweighted = module.actorLayout(
        ofLogitGradient: expectedPolicyGradientEstimate(policy, on: mdp, weighting: .unweighted))
    let finiteDifference = module.actorLayout(
        ofLogitGradient: finiteDifferencePolicyGradient(policy, on: mdp, step: configuration.finiteDifferenceStep))
    let finiteDifferenceError = maxNormRelativeError(finiteDifference, exact)
    let unweightedBias = maxNormRelativeError(unweighted, exact)
    let dot = zip(unweighted, exact).map { $0 * $1 }.reduce(0, +)
    let cosine = dot / (norm(unweighted) * norm(exact))

    // Batches of episodes through every estimator (common random numbers across estimators).
    let estimators = configuration.estimators
    var accumulators = estimators.map { _ in EstimateAccumulator(dimension: exact.count) }
    let batchCount = configuration.episodes / configuration.episodesPerBatch
    var totalSteps = 0
    var ppoTapeError = 0.0, ppoFiniteDifferenceError = 0.0, gaeError = 0.0
    for batchIndex in 0..<batchCount {
        let episodes = module.sampleEpisodes(
            count: configuration.episodesPerBatch, on: mdp, using: &episodeGenerator)
        let batch = EpisodeBatch(episodes, policy: module)
        totalSteps += batch.count
        for (index, estimator) in estimators.enumerated() {
            accumulators[index].add(batchEstimate(of: estimator, on: batch, policy: module, gamma: gamma))
        }
        if batchIndex < 64 {  // the identities are exact per batch; a few dozen batches cover the cases
            let ppo = ppoRatioOneIdentity(batch, policy: module, gamma: gamma, lambda: configuration.ppoLambda)
            ppoTapeError = max(ppoTapeError, ppo.tapeRelativeError)
            ppoFiniteDifferenceError = max(ppoFiniteDifferenceError, ppo.finiteDifferenceError)
            gaeError = max(gaeError, generalizedAdvantagesAtLambdaOne(
                batch, environments: 2, steps: max(1, batch.count / 3), gamma: gamma))
        }
    }
    var traceError = 0.0
    for _ in 0..<configuration.traceEpisodes {
        let episode = module.sampleEpisodes(count: 1, on: mdp, using: &episodeGenerator)[0]
        traceError = max(traceError, traceAndForwardViewDifference(
            episode, policy: module, gamma: gamma, lambda: configuration.traceLambda,
            stepSize: configuration.traceStepSize))
    }

    let reports = zip(estimators, accumulators).map { estimator, accumulator in
        report(estimator, accumulator, expectation: estimator.weighting == .theorem ? exact : unweighted,
               gradient: exact, configuration: configuration)
    }
    let plain = reports.first { $0.estimator == .reinforce(baseline: false, weighting: .theorem) }
    let withBaseline = reports.first { $0.estimator == .reinforce(baseline: true, weighting: .theorem) }
    let varianceRatio = (withBaseline?.totalVariance ?? .nan) / (plain?.totalVariance ?? .nan)

    var checks = [VerificationCheck(
        name: "finite differences of exact J vs theorem (max rel. error)", figure: finiteDifferenceError,
        limit: configuration.finiteDifferenceTolerance,
        passed: finiteDifferenceError <= configuration.finiteDifferenceTolerance)]
    for report in reports {
        let target = report.estimator.weighting == .theorem ? "∇J" : "E[no γ^t]"
        checks.append(VerificationCheck(
            name: "\(report.name) vs \(target) (max |z|)", figure: report.maxAbsoluteZScore,
            limit: configuration.zScoreLimit, passed: report.agrees))
    }
    checks += [
        VerificationCheck(name: "baseline variance ratio (with / without)", figure: varianceRatio, limit: 1,
                          passed: varianceRatio < 1),
        VerificationCheck(name: "PPO ratio-1 tape gradient vs reinforceLoss (max rel. error)", figure: ppoTapeError,
                          limit: configuration.tapeTolerance, passed: ppoTapeError <= configuration.tapeTolerance),
        VerificationCheck(name: "ppoLoss ∂L/∂log π vs its finite differences (max rel. error)",
                          figure: ppoFiniteDifferenceError, limit: configuration.finiteDifferenceTolerance,
                          passed: ppoFiniteDifferenceError <= configuration.finiteDifferenceTolerance),
        VerificationCheck(name: "GAE(λ=1) vs discountedReturns − V (max rel. error)", figure: gaeError,
                          limit: configuration.identityTolerance, passed: gaeError <= configuration.identityTolerance),
        VerificationCheck(name: "AC(λ) traces vs forward λ-return view, offline (max rel. error)",
                          figure: traceError, limit: configuration.tapeTolerance,
                          passed: traceError <= configuration.tapeTolerance),
    ]
    return PolicyGradientVerification(
        configuration: configuration, mdp: mdp, policy: policy, objective: evaluation.objective,
        parameterNames: module.actorParameterNames, exactGradient: exact, unweightedExpectation: unweighted,
        finiteDifferenceGradient: finiteDifference, finiteDifferenceRelativeError: finiteDifferenceError,
        unweightedRelativeBias: unweightedBias, unweightedCosine: cosine, estimators: reports,
        varianceRatio: varianceRatio, ppoTapeRelativeError: ppoTapeError,
        ppoFiniteDifferenceError: ppoFiniteDifferenceError, gaeMonteCarloRelativeError: gaeError,
        traceForwardViewRelativeError: traceError,
        meanEpisodeLength: Double(totalSteps) / Double(batchCount * configuration.episodesPerBatch),
        checks: checks)
}

private func norm(_ x: [Double]) -> Double { x.map { $0 * $0 }.reduce(0, +).squareRoot() }

private func zScores(_ mean: [Double], _ standardError: [Double], _ expectation: [Double]) -> [Double] {
    mean.indices.map { index in
        let bias = mean[index] - expectation[index]
        if standardError[index] > 0 { return bias / standardError[index] }
        // Largest finite value rather than infinity, so `--json` can encode it.
        return bias == 0 ? 0 : .greatestFiniteMagnitude
    }
}

private func report(
    _ estimator: ShippedEstimator, _ accumulator: EstimateAccumulator, expectation: [Double], gradient: [Double],
    configuration: PolicyGradientVerificationConfiguration
) -> EstimatorReport {
    let mean = accumulator.mean, standardError = accumulator.standardError
    let scores = zScores(mean, standardError, expectation)
    let maxAbsolute = scores.map(abs).max() ?? 0
    let againstGradient = zScores(mean, standardError, gradient).map(abs).max() ?? 0
    return EstimatorReport(
        name: estimator.name, estimator: estimator, mean: mean, standardError: standardError,
        totalVariance: accumulator.variance.reduce(0, +) * Double(configuration.episodesPerBatch),
        zScores: scores, maxAbsoluteZScore: maxAbsolute,
        meanSquaredZScore: scores.map { $0 * $0 }.reduce(0, +) / Double(max(scores.count, 1)),
        maxAbsoluteZScoreAgainstGradient: againstGradient, agrees: maxAbsolute <= configuration.zScoreLimit)
}
