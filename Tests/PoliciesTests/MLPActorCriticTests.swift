import Foundation
import Testing
@testable import Autograd
@testable import NN
@testable import Policies
import Randomness
import TestSupport

/// `act` (the rollout, no tape) and `evaluate` (the update, on the tape) take an action's log-probability
/// from the same `Categorical` / `DiagonalGaussian` code; PPO's ratio is exp(evaluate − act), so they
/// must agree to the bit on the same observations, and the entropy that `evaluate` reports must be the
/// distribution's that `act` samples from. Categorical and diagonal Gaussian heads, through the public API.
@Suite struct MLPActorCriticTests {
    static func observations(_ count: Int, size: Int, generator: inout SeededGenerator) -> [Float] {
        (0..<(count * size)).map { _ in 2 * generator.nextUniformFloat() - 1 }
    }

    /// A policy whose actor outputs are large enough for the distribution to be far from uniform (the
    /// 0.01 output gain of CleanRL's init would make every check pass for a near-uniform policy).
    static func policy(head: ActionHead, seed: UInt64) -> MLPActorCritic {
        var generator = SeededGenerator(seed: seed)
        let config = MLPActorCritic.Config(observationSize: 3, head: head, hiddenSizes: [16])
        let policy = MLPActorCritic(config: config, generator: &generator)
        let output = policy.actor.layers[policy.actor.layers.count - 1].weight
        output.data = output.data.map { $0 * 200 }
        if let logStd = policy.logStandardDeviation {
            logStd.data = (0..<logStd.count).map { [-0.7, 0.4, 0][$0 % 3] }
        }
        return policy
    }

    @Test func categoricalActAndEvaluateAgreeOnLogProbabilitiesAndEntropy() {
        let policy = Self.policy(head: .categorical(actions: 4), seed: 1)
        var generator = SeededGenerator(seed: 2)
        let count = 64
        let observations = Self.observations(count, size: 3, generator: &generator)
        let decision = policy.act(observations: observations, count: count, generator: &generator)
        let x = Tensor(shape: [count, 3], data: observations)
        let evaluated = Tensor.withoutGradients {
            policy.evaluate(observations: x, actions: decision.discreteActions.map(Float.init))
        }
        #expect(decision.logProbabilities == evaluated.logProbabilities.data, "one categorical log-probability")
        #expect(maxRelativeDifference(decision.values, evaluated.values.data) <= 1e-6)
        #expect(Set(decision.discreteActions).count >= 3, "the samples should reach most actions")

        // Entropy: H = −Σₐ p(a) log p(a), with every action's log-probability from `evaluate`.
        var exact = [Float](repeating: 0, count: count)
        for action in 0..<4 {
            let actions = [Float](repeating: Float(action), count: count)
            let logp = Tensor.withoutGradients {
                policy.evaluate(observations: x, actions: actions).logProbabilities.data
            }
            for i in 0..<count { exact[i] -= Foundation.exp(logp[i]) * logp[i] }
        }
        #expect(maxRelativeDifference(evaluated.entropy.data, exact) <= 1e-5)

        // …and the entropy of what `act` samples: the mean of −log p over many draws for one observation.
        let single = Array(observations.prefix(3))
        let draws = 20_000
        let repeated = Array((0..<draws).map { _ in single }.joined())
        let samples = policy.act(observations: repeated, count: draws, generator: &generator)
        let negativeLogProbabilities = samples.logProbabilities.map { -Double($0) }
        expectMeanMatches(negativeLogProbabilities, Double(evaluated.entropy.data[0]), "categorical entropy")
    }

    @Test func gaussianActAndEvaluateAgreeOnLogProbabilitiesAndEntropy() {
        let dimension = 3
        let policy = Self.policy(head: .gaussian(dimension: dimension), seed: 3)
        var generator = SeededGenerator(seed: 4)
        let count = 64
        let observations = Self.observations(count, size: 3, generator: &generator)
        let x = Tensor(shape: [count, 3], data: observations)
        for greedy in [false, true] {
            let decision = policy.act(observations: observations, count: count, generator: &generator, greedy: greedy)
            #expect(decision.continuousActions.count == count * dimension)
            let evaluated = Tensor.withoutGradients {
                policy.evaluate(observations: x, actions: decision.continuousActions)
            }
            #expect(decision.logProbabilities == evaluated.logProbabilities.data, "greedy \(greedy)")
            #expect(maxRelativeDifference(decision.values, evaluated.values.data) <= 1e-6)
        }
        // The mode is the most likely action: its log-density is above every sampled action's.
        let mode = policy.act(observations: observations, count: count, generator: &generator, greedy: true)
        let sampled = policy.act(observations: observations, count: count, generator: &generator)
        #expect(zip(mode.logProbabilities, sampled.logProbabilities).allSatisfy { $0 > $1 })

        // Entropy (differential, per observation) = E[−log p(a)] under the samples `act` draws.
        let evaluated = Tensor.withoutGradients { policy.evaluate(observations: x, actions: mode.continuousActions) }
        let draws = 20_000
        let repeated = Array((0..<draws).map { _ in Array(observations.prefix(3)) }.joined())
        let samples = policy.act(observations: repeated, count: draws, generator: &generator)
        let negativeLogProbabilities = samples.logProbabilities.map { -Double($0) }
        expectMeanMatches(negativeLogProbabilities, Double(evaluated.entropy.data[0]), "Gaussian entropy")
        // The log-std parameters are per dimension, so the entropy is the same for every observation.
        #expect(evaluated.entropy.data.allSatisfy { abs($0 - evaluated.entropy.data[0]) <= 1e-6 })
    }

    /// The sample mean lies within 4 standard errors of `expected` (a false alarm about once in 16,000 seeds;
    /// the seeds here are fixed, so the outcome is too).
    func expectMeanMatches(
        _ values: [Double], _ expected: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let standardError = (variance / n).squareRoot()
        #expect(abs(mean - expected) <= 4 * standardError,
                "\(what): Monte Carlo \(mean) ± \(standardError) vs \(expected)", sourceLocation: sourceLocation)
    }

    /// Against CleanRL's `Categorical` (Fixtures of ObjectivesTests, `ppo_cleanrl.json`): an actor whose
    /// output is its input (one Linear layer with W = I, b = 0), so the observations are the fixture's
    /// logits and `evaluate` gives PolicyLab's log-probabilities and entropies of them.
    @Test func categoricalLogProbabilitiesAndEntropyMatchCleanRL() throws {
        let file = try JSON.load("ppo_cleanrl.json", testTarget: "ObjectivesTests")
        var generator = SeededGenerator(seed: 5)
        let policy = MLPActorCritic(config: .init(observationSize: 2, head: .categorical(actions: 2), hiddenSizes: []),
                                    generator: &generator)
        let actor = try #require(policy.actor.layers.first)
        actor.weight.data = [1, 0, 0, 1]
        actor.bias?.data = [0, 0]
        let cases = try #require(file["cases"]).array
        #expect(cases.count == 4)
        for testCase in cases {
            let name = try #require(testCase["name"]?.string)
            let inputs = try #require(testCase["inputs"]), outputs = try #require(testCase["outputs"])
            let actions = try #require(inputs["actions"]).doubles.map(Float.init)
            let minibatch = try #require(inputs["mb_inds"]).ints
            for (logitsKey, rows, fields) in [("old_logits", Array(actions.indices), [("logprobs", outputs)]),
                                               ("new_logits", minibatch, [("newlogprob", outputs["minibatch"]),
                                                                          ("entropy", outputs["minibatch"])])] {
                let logits = try #require(inputs[logitsKey]).doubles
                let rowLogits = rows.flatMap { [Float(logits[2 * $0]), Float(logits[2 * $0 + 1])] }
                let x = Tensor(shape: [rows.count, 2], data: rowLogits)
                let evaluated = Tensor.withoutGradients {
                    policy.evaluate(observations: x, actions: rows.map { actions[$0] })
                }
                for (field, source) in fields {
                    let reference = try #require(source?[field]).doubles
                    let got = field == "entropy" ? evaluated.entropy.data : evaluated.logProbabilities.data
                    let scale = max(1, reference.map(abs).max() ?? 0)
                    let error = relativeError(got, reference, scale: scale)
                    #expect(error <= 2e-6, "cleanrl \(name) \(field): relative error \(error)")
                }
            }
        }
    }
}
