import Foundation
import Testing
import Objectives

/// The anti-collapse components of GRPO on hand-made batches: each changes the loss as its definition says
/// (entropy bonus and its controller, clip-higher, sequence-level importance ratios).
@Suite struct GRPOComponentObjectiveTests {
    /// Two rows of three tokens; the second row's last position is padding.
    let mask: [Double] = [1, 1, 1, 1, 1, 0]

    @Test func entropyBonusIsMinusCTimesTheTokenMeanEntropy() {
        let entropies = [0.5, 1.0, 1.5, 2.0, 0.5, 9.0]  // the padding's 9 must not count
        let bonus = entropyBonus(coefficient: 0.1, entropies: entropies, mask: mask)
        #expect(abs(bonus.meanEntropy - 5.5 / 5) < 1e-15)
        #expect(abs(bonus.loss - -0.1 * 5.5 / 5) < 1e-15)
        // ∂loss/∂H_t = −c·m_t/Σm, checked against central differences of the loss.
        for k in entropies.indices {
            var plus = entropies, minus = entropies
            plus[k] += 1e-6
            minus[k] -= 1e-6
            let numeric = (entropyBonus(coefficient: 0.1, entropies: plus, mask: mask).loss
                - entropyBonus(coefficient: 0.1, entropies: minus, mask: mask).loss) / 2e-6
            #expect(abs(numeric - bonus.entropyGradient[k]) < 1e-9, "position \(k)")
        }
        #expect(bonus.entropyGradient[5] == 0)
        // c = 0: no loss, no gradient.
        let off = entropyBonus(coefficient: 0, entropies: entropies, mask: mask)
        #expect(off.loss == 0 && off.entropyGradient.allSatisfy { $0 == 0 })
    }

    @Test func entropyControllerRaisesCBelowTheTargetAndLowersItAbove() {
        let config = EntropyBonusConfig(coefficient: 0.01, targetEntropy: 0.5, adaptationRate: 0.02,
                                        maximumCoefficient: 0.05)
        // Below the target: c + η(H* − H).
        #expect(abs(adaptedEntropyCoefficient(0.01, measuredEntropy: 0.1, config: config) - 0.018) < 1e-15)
        // Above: c falls, but never below 0.
        #expect(abs(adaptedEntropyCoefficient(0.01, measuredEntropy: 0.8, config: config) - 0.004) < 1e-15)
        #expect(adaptedEntropyCoefficient(0.001, measuredEntropy: 3.0, config: config) == 0)
        // The ceiling holds.
        #expect(adaptedEntropyCoefficient(0.049, measuredEntropy: 0, config: config) == 0.05)
        // Without a target c stays.
        let fixed = EntropyBonusConfig(coefficient: 0.01)
        #expect(adaptedEntropyCoefficient(0.01, measuredEntropy: 0, config: fixed) == 0.01)
    }

    @Test func entropySettingsAreRefused() {
        #expect(throws: ObjectiveConfigurationError.self) { try EntropyBonusConfig(coefficient: -0.1).validate() }
        #expect(throws: ObjectiveConfigurationError.self) {
            try EntropyBonusConfig(coefficient: 0, targetEntropy: 0).validate()
        }
        #expect(throws: ObjectiveConfigurationError.self) {
            try EntropyBonusConfig(coefficient: 0.2, maximumCoefficient: 0.1).validate()
        }
    }

    /// One token whose ratio is 1.25 with a positive advantage: ε_high 0.2 clips it (no gradient, the
    /// loss sees 1.2), DAPO's clip-higher 0.28 does not (gradient −A·ρ/N, the loss sees 1.25).
    @Test func clipHigherLetsAPositiveTokenRiseFurther() {
        let batch = TokenBatch(rows: 1, tokens: 1, mask: [1], logProbabilities: [log(1.25) - 1],
                               oldLogProbabilities: [-1])
        var config = GRPOConfig()
        let symmetric = grpoLoss(config: config, batch: batch, advantages: [1], generationTokens: 1)
        config.epsilonHigh = 0.28
        let higher = grpoLoss(config: config, batch: batch, advantages: [1], generationTokens: 1)
        #expect(abs(symmetric.loss - -1.2) < 1e-12 && symmetric.logProbabilityGradient[0] == 0)
        #expect(abs(higher.loss - -1.25) < 1e-12)
        #expect(abs(higher.logProbabilityGradient[0] - -1.25) < 1e-12)
        #expect(symmetric.statistics["clip_ratio/high_mean"] == 1 && higher.statistics["clip_ratio/high_mean"] == 0)
    }

    /// GSPO: one ratio per completion, exp of the mean token log-ratio, shared by its tokens, so a token
    /// beyond ε alone is not clipped when its row's mean is inside.
    @Test func sequenceLevelRatiosAreTheGeometricMeanOfTheRow() {
        let batch = TokenBatch(rows: 1, tokens: 2, mask: [1, 1], logProbabilities: [-1 + 0.4, -1 - 0.2],
                               oldLogProbabilities: [-1, -1])
        var config = GRPOConfig()
        let token = grpoLoss(config: config, batch: batch, advantages: [1], generationTokens: 2)
        config.importanceSamplingLevel = .sequence
        let sequence = grpoLoss(config: config, batch: batch, advantages: [1], generationTokens: 2)
        #expect(abs(sequence.importanceRatio[0] - exp(0.1)) < 1e-12)
        #expect(abs(sequence.loss - -exp(0.1)) < 1e-12)
        // Token level: exp(0.4) is clipped at 1.2, exp(−0.2) is not.
        #expect(abs(token.loss - -(1.2 + exp(-0.2)) / 2) < 1e-12)
        // Both tokens get the same gradient at sequence level: −A·ρ/(N·L)·… summed over the row.
        #expect(abs(sequence.logProbabilityGradient[0] - sequence.logProbabilityGradient[1]) < 1e-15)
        #expect(token.logProbabilityGradient[0] == 0 && sequence.logProbabilityGradient[0] != 0)
    }
}
