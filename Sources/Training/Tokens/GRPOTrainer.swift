import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// GRPO, Group Relative Policy Optimization (Shao et al. 2024, "DeepSeekMath" §4.1), with TRL 1.16's
/// `GRPOTrainer` semantics. Each step draws P prompts, samples G completions of each with the KV cache,
/// scores them with the task's verifiable reward (or a reward model), turns the rewards into
/// group-relative advantages A = (r − mean_group r) / (std_group r + 1e-4) and takes μ AdamW steps on the
/// clipped token-level surrogate, with an optional k3 KL to the starting policy weighted by β. The budget
/// unit is the completion.
///
/// Symbols: P prompts per step, G completions per prompt (`objective.groupSize`), ε_low/ε_high the clip
/// range of the ratio ρ = π_θ/π_old, β the KL weight, μ optimizer steps per generation batch
/// (`objective.iterations`).
public struct GRPOTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose prompts and verifiable reward to train on.
    public var task: String
    /// Seed of every random draw (weights, prompts, sampling).
    public var seed: UInt64 = 1
    /// The policy's shape when starting from random weights (TRL anchor size s by default).
    public var model = TransformerConfig.tokenPolicySmall
    /// Update steps, one generation batch each.
    public var steps = 600
    /// P: prompts per step; a batch has P·G completions.
    public var promptsPerStep = 8
    /// G, ε_low, ε_high, β, μ, the loss type (TRL `loss_type`, default dapo) and reward scaling (TRL
    /// `scale_rewards`): the objective's settings, TRL's `GRPOConfig`.
    public var objective = GRPOConfig()
    /// Maximum new tokens per completion (TRL `max_completion_length`).
    public var maxNewTokens = 8
    /// Sampling temperature during training; the log-probs in the loss are taken at it too.
    public var temperature: Float = 1
    /// AdamW's base learning rate (TRL `learning_rate`; 1e-3 suits the tiny policy).
    public var learningRate = 1e-3
    /// Decay the learning rate linearly to 0 over the run (TRL's default scheduler); else constant.
    public var decayLearningRate = true
    /// Global gradient-norm clip (the HF Trainer's `max_grad_norm` 1.0, which TRL's GRPOTrainer runs under).
    public var maxGradientNorm = 1.0
    /// AdamW's β₁, β₂ and ε (PyTorch defaults 0.9, 0.999, 1e-8).
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// AdamW's decoupled weight decay λ on matrices and embeddings (TRL default 0).
    public var weightDecay = 0.0
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples, and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100

    public init(task: String) {
        self.task = task
        objective.groupSize = 8
        objective.maxCompletionLength = maxNewTokens
    }

    public func validate() throws {
        try objective.validate(batchRows: promptsPerStep * objective.groupSize)
        try validateSharedSettings()
    }
}

extension GRPOTrainerConfig: TokenRLSettings {
    var gradientNormLimit: Double? { maxGradientNorm }
}

public final class GRPOTrainer {
    public let config: GRPOTrainerConfig
    /// The policy, seeded generator, rollout, optimizer, metrics, samples, evaluation and checkpoints
    /// around `update`.
    let loop: TokenRLLoop
    /// π_ref: the starting policy, frozen; only when β > 0.
    let reference: TransformerPolicy?
    /// π_θ.
    public var policy: TransformerPolicy { loop.policy }

    /// `initial`: start from these weights (e.g. an SFT run's checkpoint) instead of random ones.
    /// `rewardModel`: score completions with a trained reward model instead of the task's reward (the
    /// evaluation keeps the task's).
    public init(config: GRPOTrainerConfig, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil) throws {
        try config.validate()
        self.config = config
        loop = try TokenRLLoop(settings: config, groupSize: config.objective.groupSize, initial: initial,
                               rewardModel: rewardModel)
        reference = config.objective.beta > 0 ? loop.policy.copy() : nil
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> TokenTrainingResult {
        try loop.run(events: events, shouldStop: shouldStop, budget: budget, update: update)
    }

    /// A generation batch in the layout the loss reads: sequences, advantages, and the log-probs it holds
    /// constant.
    public struct UpdateBatch {
        /// Prompt + completion per row, right-padded; the mask marks completion tokens.
        public var sequences: PaddedSequences
        /// A: one group-relative advantage per row.
        public var advantages: [Double]
        /// log π_old, (B, T−1): nil means π_old = π_θ detached (ρ ≡ 1), the first of μ passes.
        public var oldLogProbabilities: [Double]?
        /// log π_ref, (B, T−1), when β > 0.
        public var referenceLogProbabilities: [Double]?
    }

    /// The update batch of G completions per prompt and their rewards.
    public func updateBatch(prompts: [[Int]], completions: [[Int]], rewards: [Double]) -> UpdateBatch {
        let advantages = grpoAdvantages(rewards: rewards, groupSize: config.objective.groupSize,
                                        scaling: config.objective.scaleRewards)
        let sequences = PaddedSequences(prompts: prompts, completions: completions, padID: loop.codec.vocabulary.padID)
        let referenceLogProbabilities = reference.map { reference in
            Tensor.withoutGradients { logProbabilities(reference, sequences).data.map(Double.init) }
        }
        return UpdateBatch(sequences: sequences, advantages: advantages.advantages, oldLogProbabilities: nil,
                           referenceLogProbabilities: referenceLogProbabilities)
    }

    /// The GRPO loss of `batch` and ∂loss/∂θ, left in every parameter's `grad` (the objective's analytic
    /// gradients with respect to the token log-probs, carried onto the tape). Also returns the token
    /// log-probs it read and the mean per-token entropy of the policy over the completion tokens (TRL's
    /// `entropy`, read off the same forward pass). `train` steps with exactly this; the finite-difference
    /// test checks it.
    public func lossAndGradients(_ batch: UpdateBatch)
        -> (loss: GRPOLoss, logProbabilities: [Double], entropy: Double) {
        let sequences = batch.sequences
        var entropies: [Float]? = []
        let logProbabilities = logProbabilities(policy, sequences, entropies: &entropies)   // (B, T−1)
        let current = logProbabilities.data.map(Double.init)
        let tokens = TokenBatch(rows: sequences.rows, tokens: sequences.time - 1, mask: sequences.completionMask,
                                logProbabilities: current, oldLogProbabilities: batch.oldLogProbabilities,
                                referenceLogProbabilities: batch.referenceLogProbabilities)
        let loss = grpoLoss(config: config.objective, batch: tokens, advantages: batch.advantages,
                            generationTokens: sequences.completionTokens)
        PolicyGradientTerms.backward([(logProbabilities, loss.logProbabilityGradient)], parameters: policy.parameters)
        return (loss, current, maskedMean(entropies ?? [], mask: sequences.completionMask))
    }

    /// μ = 1: one step with π_old = π_θ (detached). μ > 1: μ steps on the same generation batch, the ratio
    /// π_θ/π_old taken against the log-probs of the first pass and clipped to [1 − ε_low, 1 + ε_high].
    /// Metrics: the last pass's loss statistics (TRL's `kl`, the per-token k3 mean, and `clip_ratio/…`), `loss`,
    /// and `entropy` of the first pass (the policy that sampled the batch).
    private func update(_ rollout: TokenRolloutBatch, step: Int) throws -> TokenUpdate {
        var batch = updateBatch(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                rewards: rollout.rewards)
        var result: (loss: GRPOLoss, gradientNorm: Float)?
        var entropy: Double?
        for _ in 0..<config.objective.iterations {
            let (loss, current, passEntropy) = lossAndGradients(batch)
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the GRPO loss") }
            if config.objective.iterations > 1 && batch.oldLogProbabilities == nil {
                batch.oldLogProbabilities = current
            }
            entropy = entropy ?? passEntropy
            result = (loss, try loop.optimizer.step(at: step))
        }
        var statistics = result!.loss.statistics.values
        statistics["loss"] = result!.loss.loss
        statistics["entropy"] = entropy
        return TokenUpdate(statistics: statistics, gradientNorm: result!.gradientNorm, advantages: batch.advantages)
    }

    /// Next-token log-probs (B, T−1) at the sampling temperature; the prompt runs once per group of G. With
    /// `entropies` non-nil, also the entropy of each position's next-token distribution, from the same pass.
    private func logProbabilities(_ model: TransformerPolicy, _ sequences: PaddedSequences) -> Tensor {
        var entropies: [Float]?
        return logProbabilities(model, sequences, entropies: &entropies)
    }

    private func logProbabilities(_ model: TransformerPolicy, _ sequences: PaddedSequences,
                                  entropies: inout [Float]?) -> Tensor {
        model.nextTokenLogProbabilities(tokens: sequences.tokens, batch: sequences.rows, time: sequences.time,
                                        promptLengths: sequences.promptLengths, groupSize: config.objective.groupSize,
                                        temperature: config.temperature, entropies: &entropies)
    }
}
