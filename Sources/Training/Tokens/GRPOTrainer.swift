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
    /// The learning-rate schedule when `decayLearningRate` (TRL `lr_scheduler_type`: linear, cosine).
    public var learningRateScheduler = GRPOLearningRateScheduler.linear
    /// Share of the steps spent warming the learning rate up linearly (TRL `warmup_ratio`; cosine only).
    public var warmupRatio = 0.0
    /// Entropy bonus −c·H̄ and its controller towards a target entropy H* (off in TRL's setting).
    public var entropyBonus = EntropyBonusConfig()
    /// s: the share of the run (in completions, as the learning-rate schedule counts them) after which the two
    /// regularisers, the KL weight β and the entropy bonus c, decay linearly to 0 at the run's end (1: they stay
    /// fixed, as in TRL). They are there to keep early exploration from collapsing; at the end they only pull
    /// the policy towards the random start and towards uniform (`regularizerScale(step:)`).
    public var regularizerDecayStart = 1.0
    /// DAPO's dynamic sampling: drop groups whose rewards all agree and draw more prompts until the batch
    /// has P groups with a signal; the extra completions count in the budget, steps × P × G, and the run
    /// ends when it is spent.
    public var dynamicSampling = false
    /// The most generation batches one step draws under dynamic sampling (verl `max_num_gen_batches`).
    public var maximumGenerationBatches = 4
    /// Under dynamic sampling, keep every group with a signal the step's draws brought, not only the first P
    /// (DAPO discards the surplus of the last draw, whose completions the budget has paid for). Without dynamic
    /// sampling there is no surplus and it has no effect.
    public var keepSurplusGroups = false
    /// Leave completions that hit `maxNewTokens` without EOS out of the loss (TRL
    /// `mask_truncated_completions`; their rewards still count in the group's advantages).
    public var maskTruncatedCompletions = false
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples, and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100

    public init(task: String) {
        self.task = task
        objective.groupSize = 8
        objective.maxCompletionLength = maxNewTokens
    }

    /// The run's budget in completions: steps × P × G.
    public var completionBudget: Int { steps * promptsPerStep * objective.groupSize }

    /// The schedule `TokenOptimizer` follows: constant unless `decayLearningRate`, else the scheduler's.
    public var learningRateSchedule: LearningRateSchedule {
        guard decayLearningRate else { return .constant }
        switch learningRateScheduler {
        case .constant: return .constant
        case .linear: return .linear(totalSteps: steps)
        case .cosine:
            return .cosine(warmupSteps: Int((warmupRatio * Double(steps)).rounded(.up)), totalSteps: steps,
                           minimumFraction: 0)
        }
    }

    /// The factor on β and c at update `step` (1-based position of the learning-rate schedule): 1 until the
    /// share `regularizerDecayStart` of the run is spent, then linearly down to 0 at its end.
    public func regularizerScale(step: Int) -> Double {
        guard regularizerDecayStart < 1 else { return 1 }
        let progress = Double(step - 1) / Double(max(steps, 1))
        guard progress > regularizerDecayStart else { return 1 }
        return max(0, (1 - progress) / (1 - regularizerDecayStart))
    }

    public func validate() throws {
        try objective.validate(batchRows: promptsPerStep * objective.groupSize)
        try validateSharedSettings()
        try entropyBonus.validate()
        guard maximumGenerationBatches >= 1 else {
            throw TrainingError.invalidConfiguration("--max-num-gen-batches must be 1 or more")
        }
        guard warmupRatio >= 0 && warmupRatio < 1 else {
            throw TrainingError.invalidConfiguration("--warmup-ratio must be in [0, 1)")
        }
        guard regularizerDecayStart >= 0 && regularizerDecayStart <= 1 else {
            throw TrainingError.invalidConfiguration("--regularizer-decay-start must be in [0, 1]")
        }
    }
}

extension GRPOTrainerConfig: TokenRLSettings {
    var gradientNormLimit: Double? { maxGradientNorm }
}

/// TRL's `lr_scheduler_type` values the GRPO trainer offers.
public enum GRPOLearningRateScheduler: String, Codable, Sendable, CaseIterable {
    case linear, cosine, constant
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
    /// c: the entropy bonus's weight in force (moved by the controller when a target entropy is set).
    var entropyCoefficient: Double
    /// The factor on β and c of the update under way (`GRPOTrainerConfig.regularizerScale(step:)`; 1 unless
    /// `regularizerDecayStart` < 1).
    var regularizerScale = 1.0

    /// `initial`: start from these weights (e.g. an SFT run's checkpoint) instead of random ones.
    /// `rewardModel`: score completions with a trained reward model instead of the task's reward (the
    /// evaluation keeps the task's).
    public init(config: GRPOTrainerConfig, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil, source: RolloutSource? = nil) throws {
        try config.validate()
        self.config = config
        loop = try TokenRLLoop(settings: config, groupSize: config.objective.groupSize, initial: initial,
                               rewardModel: rewardModel, source: source, schedule: config.learningRateSchedule)
        if config.dynamicSampling {
            loop.dynamicSampling = DynamicSampling(maximumGenerationBatches: config.maximumGenerationBatches,
                                                   keepsSurplusGroups: config.keepSurplusGroups)
            loop.completionBudget = config.completionBudget
        }
        reference = config.objective.beta > 0 ? loop.policy.copy() : nil
        entropyCoefficient = config.entropyBonus.coefficient
        loop.algorithmState = (
            save: { [unowned self] in ["entropy_coefficient": entropyCoefficient] },
            restore: { [unowned self] state in
                guard let coefficient = state["entropy_coefficient"] else {
                    throw ResumeStateError.unreadable("no entropy-bonus coefficient")
                }
                entropyCoefficient = coefficient
            })
    }

    /// Continues from a checkpoint of a run of this config (`weights`, and `state`, its optimizer column):
    /// made with the same starting weights, the trainer has the run's reference policy; `restore` gives it the
    /// weights, AdamW, the generator, the step and the entropy controller's coefficient at the checkpoint.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try loop.restore(weights: weights, state: state)
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

    /// The update batch of G completions per prompt and their rewards. With `maskTruncatedCompletions`,
    /// rows that hit the token limit without EOS leave the mask (after the advantages, as TRL does).
    public func updateBatch(prompts: [[Int]], completions: [[Int]], rewards: [Double]) -> UpdateBatch {
        let advantages = grpoAdvantages(rewards: rewards, groupSize: config.objective.groupSize,
                                        scaling: config.objective.scaleRewards)
        var sequences = PaddedSequences(prompts: prompts, completions: completions, padID: loop.codec.vocabulary.padID)
        if config.maskTruncatedCompletions {
            let width = sequences.time - 1
            for (row, completion) in completions.enumerated() where loop.codec.isTruncated(completion) {
                for t in 0..<width { sequences.completionMask[row * width + t] = 0 }
            }
        }
        let referenceLogProbabilities = reference.map { reference in
            Tensor.withoutGradients { logProbabilities(reference, sequences).data.map(Double.init) }
        }
        return UpdateBatch(sequences: sequences, advantages: advantages.advantages, oldLogProbabilities: nil,
                           referenceLogProbabilities: referenceLogProbabilities)
    }

    /// The GRPO loss of `batch` plus the entropy bonus at the coefficient in force, and ∂(loss + bonus)/∂θ,
    /// left in every parameter's `grad` (the objectives' analytic gradients with respect to the token
    /// log-probs and, with a bonus, the entropies, carried onto the tape). Also returns the token log-probs it
    /// read and the mean per-token entropy of the policy over the completion tokens (TRL's `entropy`, read
    /// off the same forward pass). `train` steps with exactly this; the finite-difference tests check it.
    public func lossAndGradients(_ batch: UpdateBatch)
        -> (loss: GRPOLoss, logProbabilities: [Double], entropy: Double, bonus: EntropyBonus) {
        let sequences = batch.sequences
        let logProbabilities: Tensor
        var terms: [(Tensor, [Double])] = []
        var entropyValues: [Float]?
        var bonus = EntropyBonus(loss: 0, meanEntropy: 0, entropyGradient: [])
        if config.entropyBonus.isActive {
            // The entropies on the tape, so that the bonus's gradient reaches the parameters.
            let (picked, entropies) = policy.nextTokenLogProbabilitiesAndEntropies(
                tokens: sequences.tokens, batch: sequences.rows, time: sequences.time,
                promptLengths: sequences.promptLengths, groupSize: config.objective.groupSize,
                temperature: config.temperature)                                          // (B, T−1) each
            logProbabilities = picked
            entropyValues = entropies.data
            let coefficient = entropyCoefficient * regularizerScale
            bonus = entropyBonus(coefficient: coefficient, entropies: entropies.data.map(Double.init),
                                 mask: sequences.completionMask)
            if coefficient != 0 { terms.append((entropies, bonus.entropyGradient)) }
        } else {
            entropyValues = []
            logProbabilities = self.logProbabilities(policy, sequences, entropies: &entropyValues)  // (B, T−1)
        }
        let current = logProbabilities.data.map(Double.init)
        let tokens = TokenBatch(rows: sequences.rows, tokens: sequences.time - 1, mask: sequences.completionMask,
                                logProbabilities: current, oldLogProbabilities: batch.oldLogProbabilities,
                                referenceLogProbabilities: batch.referenceLogProbabilities)
        var objective = config.objective
        objective.beta *= regularizerScale
        let loss = grpoLoss(config: objective, batch: tokens, advantages: batch.advantages,
                            generationTokens: sequences.completionTokens)
        PolicyGradientTerms.backward([(logProbabilities, loss.logProbabilityGradient)] + terms,
                                     parameters: policy.parameters)
        return (loss, current, maskedMean(entropyValues ?? [], mask: sequences.completionMask), bonus)
    }

    /// μ = 1: one step with π_old = π_θ (detached). μ > 1: μ steps on the same generation batch, the ratio
    /// π_θ/π_old taken against the log-probs of the first pass and clipped to [1 − ε_low, 1 + ε_high].
    /// Metrics: the last pass's loss statistics (TRL's `kl`, the per-token k3 mean, and `clip_ratio/…`), `loss`
    /// (the bonus included), `entropy` of the first pass (the policy that sampled the batch) and, with a
    /// bonus, `entropy_coef`; then the controller moves c towards the target entropy.
    private func update(_ rollout: TokenRolloutBatch, step: Int) throws -> TokenUpdate {
        var batch = updateBatch(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                rewards: rollout.rewards)
        regularizerScale = config.regularizerScale(step: loop.optimizer.scheduledStep)
        var result: (loss: GRPOLoss, bonus: EntropyBonus, gradientNorm: Float)?
        var entropy: Double?
        for _ in 0..<config.objective.iterations {
            let (loss, current, passEntropy, bonus) = lossAndGradients(batch)
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the GRPO loss") }
            if config.objective.iterations > 1 && batch.oldLogProbabilities == nil {
                batch.oldLogProbabilities = current
            }
            entropy = entropy ?? passEntropy
            result = (loss, bonus, try loop.optimizer.step(at: step))
        }
        var statistics = result!.loss.statistics.values
        if config.regularizerDecayStart < 1 { statistics["regularizer_scale"] = regularizerScale }
        statistics["loss"] = result!.loss.loss + result!.bonus.loss
        statistics["entropy"] = entropy
        if config.entropyBonus.isActive {
            statistics["entropy_coef"] = entropyCoefficient * regularizerScale
            entropyCoefficient = adaptedEntropyCoefficient(entropyCoefficient, measuredEntropy: entropy ?? .nan,
                                                           config: config.entropyBonus)
        }
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
