import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// RLOO, REINFORCE Leave-One-Out (Kool et al. 2019; Ahmadian et al. 2024), with TRL 1.16's `RLOOTrainer`
/// semantics. Each step draws P prompts and samples G completions of each with the KV cache; each
/// completion's reward is penalised by β times its sequence k1 KL to the starting policy,
/// r′ = r − β·Σ_t (log π_old − log π_ref); its baseline is the mean r′ of the other G − 1 completions of
/// the same prompt, A = r′ − mean_{j≠i} r′_j; one AdamW step on the clipped sequence-level surrogate
/// −min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A), ρ = π_θ(y)/π_old(y). The budget unit is the completion.
///
/// Symbols: P prompts per step, G (TRL's k) completions per prompt (`objective.groupSize`), β the KL
/// weight in the reward, ε the clip range.
public struct RLOOTrainerConfig: Codable, Sendable, Equatable {
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
    /// G (k), β (default 0.05), ε: TRL's `RLOOConfig`.
    public var objective = RLOOConfig()
    /// Maximum new tokens per completion.
    public var maxNewTokens = 8
    /// Sampling temperature during training; the log-probs in the loss are taken at it too.
    public var temperature: Float = 1
    /// AdamW's base learning rate.
    public var learningRate = 1e-3
    /// Decay the learning rate linearly to 0 over the run (TRL's default scheduler); else constant.
    public var decayLearningRate = true
    /// Global gradient-norm clip (the HF Trainer's `max_grad_norm` 1.0, which TRL's RLOOTrainer runs under).
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

    public init(task: String) { self.task = task }

    public func validate() throws {
        try objective.validate(batchRows: promptsPerStep * objective.groupSize)
        try validateSharedSettings()
    }
}

extension RLOOTrainerConfig: TokenRLSettings {
    var gradientNormLimit: Double? { maxGradientNorm }
}

public final class RLOOTrainer {
    public let config: RLOOTrainerConfig
    /// The policy, seeded generator, rollout, optimizer, metrics, samples, evaluation and checkpoints
    /// around `update`.
    let loop: TokenRLLoop
    /// π_ref: the starting policy, frozen; only when β > 0.
    let reference: TransformerPolicy?
    /// π_θ.
    public var policy: TransformerPolicy { loop.policy }

    /// `initial`: start from these weights instead of random ones. `rewardModel`: score completions with a
    /// trained reward model instead of the task's reward (the evaluation keeps the task's).
    public init(config: RLOOTrainerConfig, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil, source: RolloutSource? = nil) throws {
        try config.validate()
        self.config = config
        loop = try TokenRLLoop(settings: config, groupSize: config.objective.groupSize, initial: initial,
                               rewardModel: rewardModel, source: source)
        reference = config.objective.beta > 0 ? loop.policy.copy() : nil
    }

    /// Continues from a checkpoint of a run of this config (`weights`, and `state`, its optimizer column): made
    /// with the same starting weights, the trainer has the run's reference policy; `restore` gives it the
    /// weights, AdamW, the generator and the step at the checkpoint (RLOO keeps nothing else between steps).
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try loop.restore(weights: weights, state: state)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> TokenTrainingResult {
        try loop.run(events: events, shouldStop: shouldStop, budget: budget, update: update)
    }

    /// One step with π_old = π_θ (μ = 1: the generation-time log-probs are the current ones, held constant).
    /// Metrics: `loss`, `objective/kl` (mean over completions of the sequence k1 KL Σ_t (log π_old − log π_ref),
    /// the quantity in the reward penalty; token PPO's `objective/kl` has the same definition), `kl_k1` (the
    /// per-token k1 KL averaged over completion tokens, which TRL's RLOOTrainer logs as `kl`; renamed so that
    /// no metric name holds both it and GRPO's k3 `kl`), `entropy` (TRL's: the mean per-token entropy over
    /// completion tokens, from the same forward pass) and the `clip_ratio/…` rates.
    private func update(_ rollout: TokenRolloutBatch, step: Int) throws -> TokenUpdate {
        let sequences = PaddedSequences(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                        padID: loop.codec.vocabulary.padID)
        var entropies: [Float]? = []
        let logProbabilities = logProbabilities(policy, sequences, entropies: &entropies)  // (B, T−1)
        let current = logProbabilities.data.map(Double.init)
        let referenceLogProbabilities = reference.map { reference in
            Tensor.withoutGradients { self.logProbabilities(reference, sequences).data.map(Double.init) }
        }
        let batch = TokenBatch(rows: sequences.rows, tokens: sequences.time - 1, mask: sequences.completionMask,
                               logProbabilities: current, oldLogProbabilities: current,
                               referenceLogProbabilities: referenceLogProbabilities)
        let advantages = rlooAdvantages(config: config.objective, rewards: rollout.rewards, batch: batch)
        let loss = rlooLoss(config: config.objective, batch: batch, advantages: advantages.advantages)
        guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the RLOO loss") }
        PolicyGradientTerms.backward([(logProbabilities, loss.logProbabilityGradient)], parameters: policy.parameters)
        let norm = try loop.optimizer.step(at: step)
        var statistics = loss.statistics.values
        if let tokenKL = statistics.removeValue(forKey: "kl") { statistics["kl_k1"] = tokenKL }
        statistics["objective/kl"] = mean(advantages.sequenceKL)
        statistics["loss"] = loss.loss
        statistics["entropy"] = maskedMean(entropies ?? [], mask: sequences.completionMask)
        return TokenUpdate(statistics: statistics, gradientNorm: norm, advantages: advantages.advantages)
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
