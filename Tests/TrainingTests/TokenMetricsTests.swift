import Foundation
import Testing
@testable import Training
import Objectives
import Policies
import Randomness
import Tasks

/// The definitions of the token trainers' step metrics (issue 19 §2) on hand-made batches, the entropy
/// against a direct computation, and the samples the shared loop logs for `policylab inspect`.
@Suite struct TokenMetricsTests {
    /// Two prompts × G = 3: lengths 1…6 tokens, two rows without EOS (truncated), one group of equal rewards.
    static func handMadeBatch() -> TokenRolloutBatch {
        let eos = TokenTaskCodec().vocabulary.eosID
        let prompts = [TaskPrompt(prompt: "12=", reference: "12"), TaskPrompt(prompt: "31=", reference: "13")]
        let rows = prompts.flatMap { Array(repeating: $0, count: 3) }
        let completions = [[5, eos], [5, 6, 7], [eos], [5, 6, 7, eos], [5, 6, 7, 8, 9], [5, 6, 7, 8, 9, eos]]
        return TokenRolloutBatch(
            groupSize: 3, prompts: rows, encodedPrompts: rows.map { _ in [1, 2] }, completions: completions,
            texts: completions.map { _ in "" }, rewards: [1, 0, 0.5, 0.25, 0.25, 0.25],
            totalLogProbabilities: [Float](repeating: -1, count: 6),
            truncated: completions.map(TokenTaskCodec().isTruncated))
    }

    @Test func rolloutMetricsFollowTRLsDefinitions() throws {
        let metrics = Self.handMadeBatch().metrics
        let rewards = [1, 0, 0.5, 0.25, 0.25, 0.25]
        let m = rewards.reduce(0, +) / 6
        let batchStd = (rewards.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 5).squareRoot()
        #expect(metrics["reward"] == m)
        #expect(abs(metrics["reward_std"]! - batchStd) < 1e-12, "TRL: nanstd over the whole batch")
        // Group 1: rewards 1, 0, 0.5 (std 0.5); group 2 all 0.25 (std 0): the mean of the two.
        #expect(abs(metrics["reward_std_within_group"]! - 0.25) < 1e-12)
        #expect(metrics["frac_reward_zero_std"] == 0.5)
        #expect(metrics["completions/mean_length"] == 21.0 / 6)
        #expect(metrics["completions/min_length"] == 1)
        #expect(metrics["completions/max_length"] == 6)
        // Rows 2 and 5 ([5, 6, 7] and [5, 6, 7, 8, 9]) stopped without EOS.
        #expect(metrics["completions/clipped_ratio"] == 2.0 / 6)
    }

    /// The trainer's `entropy` equals −Σ_v π_v log π_v at the sampling temperature, averaged over completion
    /// tokens, computed here directly from the logits of the plain forward pass.
    @Test func entropyMatchesADirectComputation() throws {
        var config = GRPOTrainerConfig(task: "sort")
        config.objective.groupSize = 4
        config.promptsPerStep = 2
        config.temperature = 0.7
        let trainer = try GRPOTrainer(config: config)
        var generator = SeededGenerator(seed: 3)
        let rollout = try trainer.loop.rollout.collect(policy: trainer.policy, generator: &generator)
        let batch = trainer.updateBatch(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                        rewards: rollout.rewards)
        let entropy = trainer.lossAndGradients(batch).entropy

        let sequences = batch.sequences
        let (logits, _) = trainer.policy.forward(tokens: sequences.tokens, batch: sequences.rows, time: sequences.time)
        let width = logits.shape.last!
        var total = 0.0, count = 0.0
        for b in 0..<sequences.rows {
            for t in 0..<(sequences.time - 1) where sequences.completionMask[b * (sequences.time - 1) + t] == 1 {
                let start = (b * sequences.time + t) * width
                let z = (0..<width).map { Double(logits.data[start + $0]) / 0.7 }
                let top = z.max()!
                let logNormaliser = top + Foundation.log(z.map { Foundation.exp($0 - top) }.reduce(0, +))
                total -= z.map { Foundation.exp($0 - logNormaliser) * ($0 - logNormaliser) }.reduce(0, +)
                count += 1
            }
        }
        #expect(count > 0)
        #expect(abs(entropy - total / count) < 1e-4 * max(1, total / count), "\(entropy) vs \(total / count)")
        #expect(entropy > 0 && entropy <= Foundation.log(Double(width)) + 1e-6)
    }

    /// Asking for the entropies leaves the log-probs bit-identical (seeded runs do not move).
    @Test func entropiesLeaveTheLogProbabilitiesUnchanged() throws {
        var generator = SeededGenerator(seed: 5)
        var model = GRPOTrainerConfig(task: "sort").model
        model.vocabularySize = TokenTaskCodec().vocabulary.size
        let policy = TransformerPolicy(config: model, generator: &generator)
        let tokens = (0..<24).map { $0 % model.vocabularySize }
        let plain = policy.nextTokenLogProbabilities(tokens: tokens, batch: 4, time: 6, promptLengths: [2, 2, 2, 2],
                                                     groupSize: 2, temperature: 0.9)
        var entropies: [Float]? = []
        let withEntropies = policy.nextTokenLogProbabilities(
            tokens: tokens, batch: 4, time: 6, promptLengths: [2, 2, 2, 2], groupSize: 2, temperature: 0.9,
            entropies: &entropies)
        #expect(plain.data == withEntropies.data)
        #expect(entropies?.count == 4 * 5)
    }

    /// Every step of GRPO, RLOO and token PPO logs the §2 metrics; the loop logs all G completions of two
    /// prompts at step 1, every 10 steps and at the last, with what the update made of them.
    @Test func everyTokenRLTrainerLogsTheStepMetricsAndBoundedSamples() throws {
        func shrink<C: TokenRLSettingsTestable>(_ config: inout C) {
            config.steps = 11
            config.promptsPerStep = 3
            config.evaluationPrompts = 4
            config.evaluationInterval = 0
        }
        var grpo = GRPOTrainerConfig(task: "sort")
        grpo.objective.groupSize = 4
        grpo.objective.beta = 0.04
        shrink(&grpo)
        var rloo = RLOOTrainerConfig(task: "sort")
        rloo.objective.groupSize = 4
        shrink(&rloo)
        var ppo = TokenPPOTrainerConfig(task: "sort")
        ppo.groupSize = 4
        ppo.epochs = 1
        shrink(&ppo)
        let shared = ["reward", "reward_std", "reward_std_within_group", "frac_reward_zero_std", "entropy",
                      "completions/mean_length", "completions/min_length", "completions/max_length",
                      "completions/clipped_ratio", "loss", "grad_norm", "learning_rate"]
        let runs: [(String, [String], (TrainingEventSink) throws -> Void)] = [
            ("grpo", ["kl", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"],
             { _ = try GRPOTrainer(config: grpo).train(events: $0) }),
            ("rloo", ["objective/kl", "kl_k1", "clip_ratio/region_mean"],
             { _ = try RLOOTrainer(config: rloo).train(events: $0) }),
            ("token-ppo", ["objective/kl", "policy/clipfrac_avg", "objective/entropy"],
             { _ = try TokenPPOTrainer(config: ppo).train(events: $0) }),
        ]
        for (name, own, train) in runs {
            var metricSteps = 0
            var samples: [Int: [GeneratedSample]] = [:]
            try train { event in
                switch event {
                case .metrics(_, _, let values) where values["reward"] != nil:
                    metricSteps += 1
                    for metric in shared + own { #expect(values[metric]?.isFinite == true, "\(name) \(metric)") }
                    #expect(values["entropy"]! > 0, "\(name)")
                case .samples(let step, let logged): samples[step, default: []] += logged
                default: break
                }
            }
            #expect(metricSteps == 11, "\(name)")
            #expect(Set(samples.keys) == [1, 10, 11], "\(name)")
            for (step, logged) in samples {
                let rollout = logged.filter { $0.source == .rollout }
                #expect(rollout.count == 2 * 4, "\(name) step \(step)")
                #expect(rollout.map(\.group) == [0, 0, 0, 0, 1, 1, 1, 1], "\(name)")
                for sample in rollout {
                    let length = try #require(sample.length)
                    #expect(sample.advantage?.isFinite == true && (1...8).contains(length), "\(name)")
                    // Truncated: stopped at --max-new-tokens (8) without EOS.
                    #expect(sample.truncated != nil && (sample.truncated == false || length == 8), "\(name)")
                    if name == "token-ppo" {
                        #expect(sample.value?.isFinite == true && sample.tokenKL?.count == length, "\(name)")
                    } else {
                        #expect(sample.value == nil && sample.tokenKL == nil, "\(name)")
                    }
                }
                if name == "grpo" {
                    // Group-relative advantages sum to 0 within each group.
                    for group in 0..<2 {
                        let total = rollout.filter { $0.group == group }.compactMap(\.advantage).reduce(0, +)
                        #expect(abs(total) < 1e-6, "\(total)")
                    }
                }
            }
            #expect(samples[11]!.contains { $0.source == .evaluation }, "\(name): the last step evaluates")
        }
    }
}

/// The settings the test shrinks, which all three token RL configs declare.
protocol TokenRLSettingsTestable {
    var steps: Int { get set }
    var promptsPerStep: Int { get set }
    var evaluationPrompts: Int { get set }
    var evaluationInterval: Int { get set }
}

extension GRPOTrainerConfig: TokenRLSettingsTestable {}
extension RLOOTrainerConfig: TokenRLSettingsTestable {}
extension TokenPPOTrainerConfig: TokenRLSettingsTestable {}
