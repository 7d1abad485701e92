import Foundation
import Testing
@testable import Objectives

/// Facts a reader can check by hand, finite-difference checks of every analytic gradient, and refusal
/// of impossible settings.
@Suite struct HandCheckedObjectiveTests {
    let batch = TokenBatch(
        rows: 4, tokens: 3, mask: [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1],
        logProbabilities: [-0.5, -1.2, -0.3, -2.0, -0.7, 0, -1.1, 0, 0, -0.4, -0.9, -1.6],
        oldLogProbabilities: [-0.6, -1.0, -0.35, -1.7, -0.9, 0, -1.0, 0, 0, -0.5, -0.8, -1.2],
        referenceLogProbabilities: [-0.7, -1.1, -0.2, -1.9, -0.6, 0, -1.3, 0, 0, -0.45, -1.0, -1.4])
    let advantages = [0.8, -0.5, 1.2, -1.5]

    @Test func dpoIsLn2WithZeroMarginsWhenPolicyEqualsReference() {
        let logps = [-3.0, -7.5, -1.25]
        let x = PreferenceLogProbabilities(
            policyChosen: logps, policyRejected: logps.map { $0 - 1 }, referenceChosen: logps,
            referenceRejected: logps.map { $0 - 1 }, chosenTokens: [3, 3, 3], rejectedTokens: [3, 3, 3])
        let result = dpoLoss(config: DPOConfig(), x)
        #expect(abs(result.loss - log(2)) < 1e-15)
        #expect(result.statistics["rewards/margins"] == 0)
        #expect(result.statistics["rewards/accuracies"] == 0)
        // The gradient pushes chosen up and rejected down by β·σ(0)/B.
        #expect(result.chosenGradient.allSatisfy { abs($0 + 0.1 * 0.5 / 3) < 1e-15 })
    }

    @Test func grpoLossIsZeroOnPolicyButItsGradientIsNot() {
        var config = GRPOConfig()
        config.beta = 0
        config.lossType = .grpo
        var onPolicy = batch
        onPolicy.oldLogProbabilities = nil
        // Zero-mean advantages within each of two groups of two.
        let centred = grpoAdvantages(rewards: [1, 0, 0.25, 0.75], groupSize: 2, scaling: .group).advantages
        let result = grpoLoss(config: config, batch: onPolicy, advantages: centred, generationTokens: 9)
        // ρ ≡ 1: loss = −Σ_i A_i·(mean of ones) / B = −mean(A) = 0, yet ∂/∂log π_t = −A_i/(B·L_i) ≠ 0.
        #expect(abs(result.loss) < 1e-15)
        #expect(result.logProbabilityGradient.contains { abs($0) > 0.05 })
        #expect(abs(result.logProbabilityGradient[0] - -centred[0] / (4 * 3)) < 1e-12)
    }

    @Test func zeroVarianceGroupsGetZeroAdvantage() {
        for scaling in RewardScaling.allCases {
            let result = grpoAdvantages(rewards: [0.5, 0.5, 0.5, 1, 0, 1], groupSize: 3, scaling: scaling)
            #expect(result.advantages[0...2].allSatisfy { $0 == 0 })
            #expect(result.advantages[3] > 0 && result.advantages[4] < 0)
        }
    }

    @Test func ppoRatioIsOneOnTheFirstMinibatch() {
        let logp = [-0.2, -1.3, -0.7, -2.2]
        let result = ppoLoss(
            config: PPOConfig(), newLogProbabilities: logp, oldLogProbabilities: logp, advantages: [1, -1, 0.5, 2],
            returns: [1, 0, 1, 2], oldValues: [0.5, 0.2, 0.1, 1], newValues: [0.5, 0.2, 0.1, 1],
            entropies: [0.6, 0.6, 0.6, 0.6])
        #expect(result.ratio == [1, 1, 1, 1])
        #expect(result.clipFraction == 0 && result.approximateKL == 0 && result.oldApproximateKL == 0)
    }

    /// Each loss type's normaliser on the hand-made batch with ρ ≡ 1 and β = 0, where ptl = −A at every token:
    /// lengths 3, 2, 1, 3 (Σ = 9); Σ_t m·ptl per row = −A_i·L_i.
    @Test func lossTypeNormalisations() {
        var onPolicy = batch
        onPolicy.oldLogProbabilities = nil
        let lengths = [3.0, 2, 1, 3]
        let rowSums = (0..<4).map { -advantages[$0] * lengths[$0] }
        let expected: [GRPOLossType: Double] = [
            .grpo: (0..<4).map { rowSums[$0] / lengths[$0] }.reduce(0, +) / 4,
            .bnpo: rowSums.reduce(0, +) / 9,
            .drGRPO: rowSums.reduce(0, +) / (4 * 6),
            .dapo: rowSums.reduce(0, +) / 18,  // generation batch of 18 tokens (this micro-batch and another)
            .luspo: rowSums.reduce(0, +) / 4,
        ]
        for (lossType, value) in expected {
            var config = GRPOConfig()
            config.lossType = lossType
            config.maxCompletionLength = 6
            let result = grpoLoss(config: config, batch: onPolicy, advantages: advantages, generationTokens: 18)
            #expect(abs(result.loss - value) < 1e-14, "\(lossType): \(result.loss) vs \(value)")
        }
    }

    /// Central differences of the loss in each log-prob (or value) input.
    func finiteDifference(_ x: [Double], at i: Int, step: Double = 1e-6, _ f: ([Double]) -> Double) -> Double {
        var plus = x, minus = x
        plus[i] += step
        minus[i] -= step
        return (f(plus) - f(minus)) / (2 * step)
    }

    func expectGradient(
        _ analytic: [Double], _ x: [Double], mask: [Double]? = nil, context: String,
        sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Double]) -> Double
    ) {
        for i in 0..<x.count where (mask?[i] ?? 1) != 0 {
            let numeric = finiteDifference(x, at: i, f)
            #expect(
                abs(analytic[i] - numeric) <= 1e-6 * max(1, abs(numeric)),
                "\(context)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
        }
    }

    /// cispo and vespo hold their weights constant (detached), so their gradient is −w·A·m/N by design,
    /// not the derivative of the loss value; they get a hand check instead.
    @Test func detachedWeightVariantsUseTheSurrogateGradient() {
        var config = GRPOConfig()
        config.lossType = .cispo
        config.epsilonHigh = 1.05
        let result = grpoLoss(config: config, batch: batch, advantages: advantages, generationTokens: 9)
        let ratio0 = exp(batch.logProbabilities[0] - batch.oldLogProbabilities![0])
        #expect(abs(result.logProbabilityGradient[0] - -min(ratio0, 1.05) * advantages[0] / 9) < 1e-15)
        config.lossType = .vespo
        let vespo = grpoLoss(config: config, batch: batch, advantages: advantages, generationTokens: 9)
        #expect(abs(vespo.logProbabilityGradient[3] - -vespo.vespoWeights![1] * advantages[1] / 9) < 1e-15)
    }

    @Test func grpoGradientsMatchFiniteDifferences() {
        for lossType in GRPOLossType.allCases where lossType != .cispo && lossType != .vespo {
            for level in [ImportanceSamplingLevel.token, .sequence]
            where !(level == .sequence && [.cispo, .vespo, .sapo].contains(lossType)) {
                for beta in [0.0, 0.04] {
                    var config = GRPOConfig()
                    config.lossType = lossType
                    config.importanceSamplingLevel = level
                    config.beta = beta
                    config.epsilonHigh = lossType == .cispo ? 1.25 : 0.28
                    let gradient = grpoLoss(config: config, batch: batch, advantages: advantages, generationTokens: 9)
                        .logProbabilityGradient
                    expectGradient(
                        gradient, batch.logProbabilities, mask: batch.mask, context: "\(lossType) \(level) β=\(beta)"
                    ) { logp in
                        var b = batch
                        b.logProbabilities = logp
                        return grpoLoss(config: config, batch: b, advantages: advantages, generationTokens: 9).loss
                    }
                }
            }
        }
    }

    @Test func dpoRlooPPOAndPolicyGradientGradientsMatchFiniteDifferences() {
        let chosen = [-3.0, -5.5, -2.0], rejected = [-4.0, -5.0, -6.5]
        for lossType in DPOLossType.allCases {
            let config = DPOConfig(beta: 0.3, lossType: lossType, labelSmoothing: lossType == .robust ? 0.1 : 0)
            func make(_ c: [Double], _ r: [Double]) -> PreferenceLogProbabilities {
                PreferenceLogProbabilities(
                    policyChosen: c, policyRejected: r, referenceChosen: [-3.2, -5.0, -2.5],
                    referenceRejected: [-3.9, -5.5, -6.0], chosenTokens: [3, 4, 2], rejectedTokens: [3, 5, 4])
            }
            let result = dpoLoss(config: config, make(chosen, rejected))
            expectGradient(result.chosenGradient, chosen, context: "dpo \(lossType) chosen") {
                dpoLoss(config: config, make($0, rejected)).loss
            }
            expectGradient(result.rejectedGradient, rejected, context: "dpo \(lossType) rejected") {
                dpoLoss(config: config, make(chosen, $0)).loss
            }
        }
        var rloo = RLOOConfig()
        rloo.groupSize = 2
        let rlooGradient = rlooLoss(config: rloo, batch: batch, advantages: advantages).logProbabilityGradient
        expectGradient(rlooGradient, batch.logProbabilities, mask: batch.mask, context: "rloo") { logp in
            var b = batch
            b.logProbabilities = logp
            return rlooLoss(config: rloo, batch: b, advantages: advantages).loss
        }
        let newLogp = [-0.3, -1.0, -0.9, -2.5], oldLogp = [-0.5, -1.1, -0.6, -2.0], newValues = [0.4, -0.3, 0.35, 1.5]
        for clip in [true, false] {
            let config = PPOConfig(clipValueLoss: clip)
            func loss(_ l: [Double], _ v: [Double], _ h: [Double]) -> PPOMinibatchLoss {
                ppoLoss(
                    config: config, newLogProbabilities: l, oldLogProbabilities: oldLogp,
                    advantages: [1, -0.5, 0.7, 2], returns: [1, 0, 0.2, 1],
                    oldValues: [0.5, 0.2, 0.1, 1], newValues: v, entropies: h)
            }
            let result = loss(newLogp, newValues, [0.6, 0.5, 0.4, 0.3])
            expectGradient(result.logProbabilityGradient, newLogp, context: "ppo logp") {
                loss($0, newValues, [0.6, 0.5, 0.4, 0.3]).loss
            }
            expectGradient(result.valueGradient, newValues, context: "ppo value") {
                loss(newLogp, $0, [0.6, 0.5, 0.4, 0.3]).loss
            }
            expectGradient(result.entropyGradient, [0.6, 0.5, 0.4, 0.3], context: "ppo entropy") {
                loss(newLogp, newValues, $0).loss
            }
        }
        let bt = bradleyTerryLoss(chosenRewards: [0.3, -0.2], rejectedRewards: [0.1, 0.4])
        expectGradient(bt.chosenGradient, [0.3, -0.2], context: "bradley-terry") {
            bradleyTerryLoss(chosenRewards: $0, rejectedRewards: [0.1, 0.4]).loss
        }
        #expect(bt.accuracy == 0.5)
        let reinforce = reinforceLoss(logProbabilities: newLogp, returns: [2, 1, 0, -1], values: newValues)
        expectGradient(reinforce.logProbabilityGradient, newLogp, context: "reinforce") {
            reinforceLoss(logProbabilities: $0, returns: [2, 1, 0, -1], values: newValues).loss
        }
    }

    @Test func tokenPPOGradientsMatchFiniteDifferences() {
        let config = TokenPPOConfig()
        let responses = [3, 5, 2, 0, 0, 4, 1, 5, 3, 1]
        let rollout = tokenPPORollout(
            config: config, responses: responses, rows: 2, tokens: 5, padID: 0, eosID: 2,
            logProbabilities: [-1.2, -0.8, -0.3, -2, -2, -0.5, -1.7, -0.2, -0.9, -1.1],
            referenceLogProbabilities: [-1.1, -0.9, -0.4, -2, -2, -0.6, -1.5, -0.25, -1.0, -1.0],
            values: [0.1, 0.2, 0.3, 0.4, 0.5, -0.1, 0.0, 0.1, 0.2, 0.3], scores: [1.0, 0.2])
        let newLogp = [-1.0, -0.9, -0.35, -2, -2, -0.45, -1.9, -0.1, -0.95, -1.0]
        let newValues = [0.15, 0.1, 0.45, 0.3, 0.6, 0.0, 0.05, 0.05, 0.1, 0.45]
        let result = tokenPPOLoss(
            config: config, rollout: rollout, rowIndices: [0, 1], newLogProbabilities: newLogp, newValues: newValues)
        expectGradient(result.logProbabilityGradient, newLogp, context: "token ppo logp") {
            tokenPPOLoss(
                config: config, rollout: rollout, rowIndices: [0, 1], newLogProbabilities: $0, newValues: newValues
            ).loss
        }
        expectGradient(result.valueGradient, newValues, context: "token ppo value") {
            tokenPPOLoss(
                config: config, rollout: rollout, rowIndices: [0, 1], newLogProbabilities: newLogp, newValues: $0
            ).loss
        }
    }

    @Test func impossibleSettingsAreRefused() {
        var grpo = GRPOConfig()
        grpo.groupSize = 1
        #expect(throws: ObjectiveConfigurationError.self) { try grpo.validate() }
        grpo.groupSize = 8
        #expect(throws: ObjectiveConfigurationError.self) { try grpo.validate(batchRows: 60) }
        grpo.beta = -0.1
        #expect(throws: ObjectiveConfigurationError.self) { try grpo.validate() }
        grpo.beta = 0
        grpo.epsilonLow = 0
        #expect(throws: ObjectiveConfigurationError.self) { try grpo.validate() }
        #expect(GRPOLossType(rawValue: "nope") == nil)
        #expect(throws: ObjectiveConfigurationError.self) { try DPOConfig(beta: 0).validate() }
        #expect(throws: ObjectiveConfigurationError.self) { try DPOConfig(labelSmoothing: 0.5).validate() }
        #expect(throws: ObjectiveConfigurationError.self) { try PPOConfig(clipCoefficient: -1).validate() }
        var rloo = RLOOConfig()
        rloo.groupSize = 1
        #expect(throws: ObjectiveConfigurationError.self) { try rloo.validate() }
    }

    @Test func returnsAndGAEByHand() {
        // G = r + γG with a restart after the episode end at index 1.
        #expect(
            discountedReturns(rewards: [1, 1, 1], episodeEnds: [false, true, false], gamma: 0.5, bootstrapValue: 2) == [
                1.5, 1, 2,
            ])
        // One env, two steps, λ = 1: A_t = G_t − V_t with bootstrap.
        let (a, r) = generalizedAdvantages(
            rewards: [1, 1], values: [0.5, 0.5], dones: [0, 0], nextValue: [1], nextDone: [0], environments: 1,
            gamma: 1, lambda: 1)
        #expect(a == [2.5, 1.5] && r == [3, 2])
        // Truncation bootstrap adds γ·V(final) to that step's reward.
        let (b, _) = generalizedAdvantages(
            rewards: [1], values: [0], dones: [0], nextValue: [0], nextDone: [1], environments: 1, gamma: 0.9,
            lambda: 1, truncationBootstrap: [10])
        #expect(abs(b[0] - 10) < 1e-12)
        #expect(eligibilityTraceUpdate(trace: [1, 2], gradient: [0.5, 0], gamma: 0.5, lambda: 0.5) == [0.75, 0.5])
    }
}
