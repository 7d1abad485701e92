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
        try TokenRLSettings.validate(steps: steps, promptsPerStep: promptsPerStep, maxNewTokens: maxNewTokens,
                                     temperature: temperature, learningRate: learningRate,
                                     maxGradientNorm: maxGradientNorm, adamBeta1: adamBeta1, adamBeta2: adamBeta2,
                                     adamEpsilon: adamEpsilon, weightDecay: weightDecay)
    }
}

public final class GRPOTrainer {
    public let config: GRPOTrainerConfig
    public let policy: TransformerPolicy
    /// π_ref: the starting policy, frozen; only when β > 0.
    let reference: TransformerPolicy?
    let codec = TokenTaskCodec()
    let rollout: TokenRollout
    let evaluator: TokenEvaluator
    let optimizer: TokenOptimizer
    var generator: SeededGenerator

    /// `initial`: start from these weights (e.g. an SFT run's checkpoint) instead of random ones.
    /// `rewardModel`: score completions with a trained reward model instead of the task's reward (the
    /// evaluation keeps the task's).
    public init(config: GRPOTrainerConfig, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil) throws {
        try config.validate()
        self.config = config
        let task = try TaskRegistry.task(named: config.task)
        generator = SeededGenerator(seed: config.seed)
        policy = try codec.startingPolicy(initial: initial, model: config.model, generator: &generator)
        reference = config.objective.beta > 0 ? policy.copy() : nil
        optimizer = TokenOptimizer(
            parameters: policy.parameters,
            adam: .init(learningRate: Float(config.learningRate), beta1: Float(config.adamBeta1),
                        beta2: Float(config.adamBeta2), epsilon: Float(config.adamEpsilon),
                        weightDecay: Float(config.weightDecay)),
            baseLearningRate: config.learningRate,
            schedule: tokenLearningRateSchedule(decay: config.decayLearningRate, steps: config.steps),
            maximumGradientNorm: Float(config.maxGradientNorm))
        rollout = TokenRollout(task: task, codec: codec, rewardModel: rewardModel.map(RewardModelScorer.init),
                               promptsPerStep: config.promptsPerStep, groupSize: config.objective.groupSize,
                               maxNewTokens: config.maxNewTokens, temperature: config.temperature)
        evaluator = TokenEvaluator(task: task, codec: codec, promptCount: config.evaluationPrompts,
                                   seed: config.seed, maxNewTokens: config.maxNewTokens)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> TokenTrainingResult {
        let clock = ContinuousClock()
        let start = clock.now
        var samplingSeconds = 0.0, updateSeconds = 0.0
        var completionsUsed = 0
        for step in 1...config.steps {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.scheduleLearningRate(step: step)

            // 1. Generation: G completions per prompt, scored.
            let samplingStart = clock.now
            let batch = try rollout.collect(policy: policy, generator: &generator)
            completionsUsed += batch.rows
            samplingSeconds += samplingStart.secondsUntilNow

            // 2. μ updates on the generation batch.
            let updateStart = clock.now
            let update = try self.update(batch, step: step)
            updateSeconds += updateStart.secondsUntilNow

            var metrics = update.loss.statistics.values.merging(batch.metrics) { _, rollout in rollout }
            metrics["loss"] = update.loss.loss
            metrics["grad_norm"] = Double(update.gradientNorm)
            metrics["learning_rate"] = Double(optimizer.learningRate)
            try events(.metrics(step: step, samplesSeen: completionsUsed, values: metrics))

            // 3. Greedy evaluation on held-out prompts, samples and a checkpoint.
            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let (evaluation, samples) = try evaluator.evaluate(policy)
                try events(.metrics(step: step, samplesSeen: completionsUsed, values: evaluation.metrics))
                try events(.samples(step: step, batch.samples() + samples))
                try events(.progress(String(
                    format: "step %d/%d  completions %d  reward %.3f  greedy exact %.1f%%  (%.1f s)", step,
                    config.steps, completionsUsed, metrics["reward"] ?? .nan, 100 * evaluation.exactMatch,
                    start.secondsUntilNow)))
                try events(policy.checkpoint(step: step))
                if isLast {
                    return TokenTrainingResult(
                        evaluation: evaluation, steps: step, completions: completionsUsed,
                        wallSeconds: start.secondsUntilNow, samplingSeconds: samplingSeconds,
                        updateSeconds: updateSeconds)
                }
            }
        }
        preconditionFailure("the last step returns")
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
        let sequences = PaddedSequences(prompts: prompts, completions: completions, padID: codec.vocabulary.padID)
        let referenceLogProbabilities = reference.map { reference in
            Tensor.withoutGradients { logProbabilities(reference, sequences).data.map(Double.init) }
        }
        return UpdateBatch(sequences: sequences, advantages: advantages.advantages, oldLogProbabilities: nil,
                           referenceLogProbabilities: referenceLogProbabilities)
    }

    /// The GRPO loss of `batch` and ∂loss/∂θ, left in every parameter's `grad` (the objective's analytic
    /// gradients with respect to the token log-probs, carried onto the tape). Also returns the token
    /// log-probs it read. `train` steps with exactly this; the finite-difference test checks it.
    public func lossAndGradients(_ batch: UpdateBatch) -> (loss: GRPOLoss, logProbabilities: [Double]) {
        let sequences = batch.sequences
        let logProbabilities = logProbabilities(policy, sequences)                        // (B, T−1)
        let current = logProbabilities.data.map(Double.init)
        let tokens = TokenBatch(rows: sequences.rows, tokens: sequences.time - 1, mask: sequences.completionMask,
                                logProbabilities: current, oldLogProbabilities: batch.oldLogProbabilities,
                                referenceLogProbabilities: batch.referenceLogProbabilities)
        let loss = grpoLoss(config: config.objective, batch: tokens, advantages: batch.advantages,
                            generationTokens: sequences.completionTokens)
        PolicyGradientTerms.backward([(logProbabilities, loss.logProbabilityGradient)], parameters: policy.parameters)
        return (loss, current)
    }

    /// μ = 1: one step with π_old = π_θ (detached). μ > 1: μ steps on the same generation batch, the ratio
    /// π_θ/π_old taken against the log-probs of the first pass and clipped to [1 − ε_low, 1 + ε_high].
    private func update(_ rollout: TokenRolloutBatch, step: Int) throws -> (loss: GRPOLoss, gradientNorm: Float) {
        var batch = updateBatch(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                rewards: rollout.rewards)
        var result: (loss: GRPOLoss, gradientNorm: Float)?
        for _ in 0..<config.objective.iterations {
            let (loss, current) = lossAndGradients(batch)
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the GRPO loss") }
            if config.objective.iterations > 1 && batch.oldLogProbabilities == nil {
                batch.oldLogProbabilities = current
            }
            result = (loss, try optimizer.step(at: step))
        }
        return result!
    }

    /// Next-token log-probs (B, T−1) at the sampling temperature; the prompt runs once per group of G.
    private func logProbabilities(_ model: TransformerPolicy, _ sequences: PaddedSequences) -> Tensor {
        model.nextTokenLogProbabilities(tokens: sequences.tokens, batch: sequences.rows, time: sequences.time,
                                        promptLengths: sequences.promptLengths, groupSize: config.objective.groupSize,
                                        temperature: config.temperature)
    }
}
