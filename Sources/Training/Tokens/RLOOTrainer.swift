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
        try TokenRLSettings.validate(steps: steps, promptsPerStep: promptsPerStep, maxNewTokens: maxNewTokens,
                                     temperature: temperature, learningRate: learningRate,
                                     maxGradientNorm: maxGradientNorm, adamBeta1: adamBeta1, adamBeta2: adamBeta2,
                                     adamEpsilon: adamEpsilon, weightDecay: weightDecay)
    }
}

public final class RLOOTrainer {
    public let config: RLOOTrainerConfig
    public let policy: TransformerPolicy
    /// π_ref: the starting policy, frozen; only when β > 0.
    let reference: TransformerPolicy?
    let codec = TokenTaskCodec()
    let rollout: TokenRollout
    let evaluator: TokenEvaluator
    let optimizer: TokenOptimizer
    var generator: SeededGenerator

    /// `initial`: start from these weights instead of random ones. `rewardModel`: score completions with a
    /// trained reward model instead of the task's reward (the evaluation keeps the task's).
    public init(config: RLOOTrainerConfig, initial: TransformerPolicy? = nil,
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

            // 2. One update on the generation batch.
            let updateStart = clock.now
            let update = try self.update(batch, step: step)
            updateSeconds += updateStart.secondsUntilNow

            var metrics = update.statistics.merging(batch.metrics) { _, rollout in rollout }
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

    /// One step with π_old = π_θ (μ = 1: the generation-time log-probs are the current ones, held constant).
    /// Metrics: `loss`, `objective/kl` (mean over completions of the sequence k1 KL Σ_t (log π_old − log π_ref),
    /// the quantity in the reward penalty; token PPO's `objective/kl` has the same definition), `kl_k1` (the
    /// per-token k1 KL averaged over completion tokens, which TRL's RLOOTrainer logs as `kl`; renamed so that
    /// no metric name holds both it and GRPO's k3 `kl`) and the `clip_ratio/…` rates.
    private func update(_ rollout: TokenRolloutBatch, step: Int) throws
        -> (statistics: [String: Double], gradientNorm: Float) {
        let sequences = PaddedSequences(prompts: rollout.encodedPrompts, completions: rollout.completions,
                                        padID: codec.vocabulary.padID)
        let logProbabilities = logProbabilities(policy, sequences)                      // (B, T−1)
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
        let norm = try optimizer.step(at: step)
        var statistics = loss.statistics.values
        if let tokenKL = statistics.removeValue(forKey: "kl") { statistics["kl_k1"] = tokenKL }
        statistics["objective/kl"] = mean(advantages.sequenceKL)
        statistics["loss"] = loss.loss
        return (statistics, norm)
    }

    /// Next-token log-probs (B, T−1) at the sampling temperature; the prompt runs once per group of G.
    private func logProbabilities(_ model: TransformerPolicy, _ sequences: PaddedSequences) -> Tensor {
        model.nextTokenLogProbabilities(tokens: sequences.tokens, batch: sequences.rows, time: sequences.time,
                                        promptLengths: sequences.promptLengths, groupSize: config.objective.groupSize,
                                        temperature: config.temperature)
    }
}
