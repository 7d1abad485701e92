import Objectives
import Testing

/// REINFORCE's two step weightings (`DiscountWeighting`): the default leaves the loss as it was; the
/// theorem's multiplies step t of each episode by γ^t.
@Suite struct DiscountWeightingTests {
    let logProbabilities = [-0.5, -1.2, -0.3, -2.0, -0.7]
    let returns = [2.0, 1.5, 0.4, 3.0, -1.0]
    let values = [0.5, 0.2, 0.1, 1.0, 0.3]
    let episodeEnds = [false, false, true, false, true]   // two episodes: steps 0–2 and 3–4

    @Test func discountPowersRestartAtEveryEpisode() {
        let powers = discountPowers(episodeEnds: episodeEnds, gamma: 0.9)
        let expected = [1, 0.9, 0.81, 1, 0.9]
        for (power, value) in zip(powers, expected) { #expect(abs(power - value) < 1e-15) }
        #expect(DiscountWeighting.unweighted.stepWeights(episodeEnds: episodeEnds, gamma: 0.9) == nil)
        #expect(DiscountWeighting.theorem.stepWeights(episodeEnds: episodeEnds, gamma: 0.9) == powers)
    }

    @Test func defaultWeightingIsTheUnweightedLoss() {
        let loss = reinforceLoss(logProbabilities: logProbabilities, returns: returns, values: values)
        let n = Double(returns.count)
        for i in returns.indices {
            #expect(loss.logProbabilityGradient[i] == -(returns[i] - values[i]) / n)
        }
        let ones = reinforceLoss(
            logProbabilities: logProbabilities, returns: returns, values: values, stepWeights: [1, 1, 1, 1, 1])
        #expect(ones.loss == loss.loss && ones.logProbabilityGradient == loss.logProbabilityGradient)
    }

    @Test func theoremWeightingScalesThePolicyTermOnly() {
        let weights = discountPowers(episodeEnds: episodeEnds, gamma: 0.5)
        let plain = reinforceLoss(logProbabilities: logProbabilities, returns: returns, values: values)
        let weighted = reinforceLoss(
            logProbabilities: logProbabilities, returns: returns, values: values, stepWeights: weights)
        for i in returns.indices {
            #expect(abs(weighted.logProbabilityGradient[i] - weights[i] * plain.logProbabilityGradient[i]) < 1e-15)
        }
        #expect(weighted.valueGradient == plain.valueGradient)   // the critic's regression is never weighted
        #expect(weighted.statistics["losses/value_loss"] == plain.statistics["losses/value_loss"])
        // The policy term's gradient is its loss's derivative: L is linear in log π.
        let step = 1e-6
        for i in returns.indices {
            var plus = logProbabilities, minus = logProbabilities
            plus[i] += step
            minus[i] -= step
            func loss(_ x: [Double]) -> Double {
                reinforceLoss(logProbabilities: x, returns: returns, values: values, stepWeights: weights).loss
            }
            let difference = (loss(plus) - loss(minus)) / (2 * step)
            #expect(abs(difference - weighted.logProbabilityGradient[i]) < 1e-9)
        }
    }
}
