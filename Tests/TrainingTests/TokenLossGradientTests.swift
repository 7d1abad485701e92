import Foundation
import Testing
@testable import Training
import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// Finite-difference checks of whole token losses with respect to parameters, through the function the
/// trainers step with (`lossAndGradients`): the objective's analytic gradients with respect to the token
/// log-probs, carried onto the tape, must be the gradients of the loss the objective reports.
@Suite struct TokenLossGradientTests {
    /// Central differences (L(θ + h) − L(θ − h)) / 2h for the entry of each of a few parameter tensors
    /// whose analytic gradient is largest, compared with the analytic gradient. `loss` recomputes the
    /// loss at the current weights; the gradients are read after `analytic` ran.
    func checkFiniteDifferences(parameters: [(name: String, tensor: Tensor)], analytic: () -> Void,
                                loss: () -> Double, step: Float = 5e-3) {
        analytic()
        let gradients = parameters.map { $0.tensor.grad ?? [] }
        #expect(loss().isFinite)
        var checked = 0
        for (k, parameter) in parameters.enumerated() where !gradients[k].isEmpty {
            guard let index = gradients[k].indices.max(by: { abs(gradients[k][$0]) < abs(gradients[k][$1]) }),
                  abs(gradients[k][index]) > 1e-4 else { continue }
            let original = parameter.tensor.data[index]
            parameter.tensor.data[index] = original + step
            let plus = loss()
            parameter.tensor.data[index] = original - step
            let minus = loss()
            parameter.tensor.data[index] = original
            let numeric = (plus - minus) / (2 * Double(step))
            let exact = Double(gradients[k][index])
            #expect(abs(numeric - exact) <= 0.03 * abs(exact) + 2e-5,
                    "\(parameter.name)[\(index)]: finite difference \(numeric), analytic \(exact)")
            checked += 1
        }
        #expect(checked >= 5, "only \(checked) parameters had a gradient to check")
    }

    /// A few tensors spread over the model: the embedding, attention and MLP of the first block, the
    /// final LayerNorm.
    func someParameters(_ policy: TransformerPolicy) -> [(name: String, tensor: Tensor)] {
        let named = policy.namedParameters
        let names = ["tok_emb.weight", "pos_emb.weight", "blocks.0.attn.qkv.weight", "blocks.0.mlp.proj.weight",
                     "blocks.1.attn.proj.weight", "ln_f.weight"]
        return named.filter { names.contains($0.name) }
    }

    @Test func grpoLossGradientMatchesFiniteDifferences() throws {
        var config = GRPOTrainerConfig(task: "sort")
        config.objective.beta = 0.04           // the k3 KL term too
        config.objective.lossType = .grpo      // per-sequence means, the reduction with row weights
        let trainer = try GRPOTrainer(config: config)
        var generator = SeededGenerator(seed: 5)
        let rollout = try trainer.loop.rollout.collect(policy: trainer.policy, generator: &generator)
        // Rewards that differ within every group, so every advantage is non-zero.
        var batch = trainer.updateBatch(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                        rewards: (0..<rollout.rows).map { Double($0 % 3) })
        // π_old a little off π_θ (|log ρ| ≤ 0.05, inside the clip range) so that ρ ≠ 1 and the loss moves.
        let current = trainer.lossAndGradients(batch).logProbabilities
        batch.oldLogProbabilities = current.map { $0 + generator.nextUniform(in: -0.05, 0.05) }
        // The reference off π_θ too, so that the KL has a gradient.
        batch.referenceLogProbabilities = current.map { $0 + generator.nextUniform(in: -0.1, 0.1) }
        checkFiniteDifferences(parameters: someParameters(trainer.policy),
                               analytic: { _ = trainer.lossAndGradients(batch) },
                               loss: { trainer.lossAndGradients(batch).loss.loss })
    }

    @Test func dpoLossGradientMatchesFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 9)
        let pairs = makePreferencePairs(task: try SortTask(), count: 24, using: &generator).map {
            PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected)
        }
        var model = TransformerConfig.tokenPolicySmall
        model.vocabularySize = Vocabulary.anchor.size
        let reference = TransformerPolicy(config: model, generator: &generator)
        let initial = TransformerPolicy(config: model, generator: &generator)
        var config = DPOTrainerConfig(task: nil)
        config.rpoAlpha = 0.5                  // the NLL term too
        config.heldOutFraction = 0
        let trainer = try DPOTrainer(config: config, pairs: pairs, reference: reference, initial: initial)
        let batch = Array(trainer.training.prefix(8))
        checkFiniteDifferences(parameters: someParameters(trainer.policy),
                               analytic: { _ = trainer.lossAndGradients(batch) },
                               loss: { trainer.lossAndGradients(batch).loss })
    }
}
