import Autograd
import NN
import Policies
import Randomness
import Tasks

/// What one algorithm's update on a generation batch hands back to `TokenRLLoop`.
struct TokenUpdate {
    /// The update's statistics under TRL's names (`loss`, `entropy`, the KL and clip rates).
    var statistics: [String: Double]
    /// The global gradient norm before clipping, of the last optimizer step.
    var gradientNorm: Float
    /// A of each row: GRPO's group-relative or RLOO's leave-one-out advantage; token PPO's whitened GAE
    /// advantage of the first completion token.
    var advantages: [Double]
    /// Token PPO: the value estimate V(prompt) of each row, the state before its first completion token.
    var values: [Double]?
    /// Token PPO: the per-token KL to the reference of each row's completion tokens (the penalty's estimator).
    var tokenKL: [[Double]]?
}

/// The step loop GRPO, RLOO and token PPO share, so that each trainer's file holds only its algorithm. It
/// owns the policy π_θ, the run's seeded generator and the optimizer; per step it sets the learning rate,
/// collects a generation batch (`TokenRollout`), hands it to the algorithm's update, logs the rollout's and
/// the update's metrics, every `sampleInterval` steps logs all G completions of the first `loggedPrompts`
/// prompts with what the update made of them, and at each evaluation runs the greedy evaluator, logs its
/// samples and saves a checkpoint.
final class TokenRLLoop {
    /// Prompts whose G completions are logged at a sampled step (bounded: 2·G rows).
    static let loggedPrompts = 2
    /// Rollout samples are logged at step 1, every this many steps and at the last step.
    static let sampleInterval = 10

    let codec = TokenTaskCodec()
    /// π_θ: the policy trained.
    let policy: TransformerPolicy
    /// Models the optimizer steps beside the policy (token PPO's separate value network).
    let companions: [TransformerPolicy]
    /// Draws the starting weights, then each step's prompts and completions.
    var generator: SeededGenerator
    let steps: Int
    /// Evaluate (and log evaluation samples, and checkpoint) every this many steps (0: only at the end).
    let evaluationInterval: Int
    let rollout: TokenRollout
    let evaluator: TokenEvaluator
    let optimizer: TokenOptimizer
    /// DAPO's dynamic sampling (GRPO's option): each step draws generation batches until P groups with
    /// differing rewards fill the batch. nil: one generation batch per step.
    var dynamicSampling: DynamicSampling?
    /// End the run once this many completions are drawn (with dynamic sampling, steps × P × G). nil: after
    /// `steps` steps.
    var completionBudget: Int?
    /// The algorithm's own state that moves between steps (GRPO's entropy-bonus coefficient), saved with every
    /// checkpoint and given back on resume.
    var algorithmState: (save: () -> [String: Double], restore: ([String: Double]) throws -> Void)?
    /// Where a resumed run continues (nil: from the start).
    private var resumed: Progress?

    /// What moves during training besides the weights and AdamW, saved with every checkpoint so that `restore`
    /// continues the run bit for bit: the steps done, the completions drawn (the schedule's position with
    /// dynamic sampling), the generator of prompts and completions, and the algorithm's state. The reference
    /// policy and the held-out prompts are made again from the config and the starting weights.
    struct Progress: Codable {
        var step: Int
        var completions: Int
        var generator: SeededGenerator
        var algorithm: [String: Double]
    }

    /// `initial`: start from these weights (e.g. an SFT run's checkpoint) instead of random ones drawn from
    /// the seed. `rewardModel`: score completions with it instead of the task's reward (the evaluation keeps
    /// the task's). `source`: the training prompts, held-out prompts and reward (a stored dataset, a weighted
    /// reward), instead of the task's and `rewardModel`'s. `companions`: models made from the starting policy
    /// that the optimizer steps too.
    /// `schedule`: the learning-rate schedule, if not the settings' linear decay (or constant).
    init(settings: some TokenRLSettings, groupSize: Int, initial: TransformerPolicy?, rewardModel: TransformerPolicy?,
         source: RolloutSource? = nil, schedule: LearningRateSchedule? = nil,
         companions makeCompanions: (TransformerPolicy) -> [TransformerPolicy] = { _ in [] }) throws {
        let task = try TaskRegistry.task(named: settings.task)
        generator = SeededGenerator(seed: settings.seed)
        policy = try codec.startingPolicy(initial: initial, model: settings.model, generator: &generator)
        companions = makeCompanions(policy)
        steps = settings.steps
        evaluationInterval = settings.evaluationInterval
        optimizer = TokenOptimizer(
            parameters: policy.parameters + companions.flatMap(\.parameters),
            adam: .init(learningRate: Float(settings.learningRate), beta1: Float(settings.adamBeta1),
                        beta2: Float(settings.adamBeta2), epsilon: Float(settings.adamEpsilon),
                        weightDecay: Float(settings.weightDecay)),
            baseLearningRate: settings.learningRate,
            schedule: schedule ?? tokenLearningRateSchedule(decay: settings.decayLearningRate, steps: settings.steps),
            maximumGradientNorm: settings.gradientNormLimit.map(Float.init) ?? .infinity)
        precondition(source == nil || rewardModel == nil, "give the reward model inside the rollout source")
        let source = source ?? RolloutSource(reward: RewardSource(task: task, rewardModel: rewardModel))
        // A stored prompt must leave room for the completion in the model's context.
        let contextLength = policy.config.contextLength
        for prompt in (source.trainingPrompts ?? []) + (source.evaluationPrompts ?? []) {
            let length = try codec.encodePrompt(prompt.prompt).count
            guard length + settings.maxNewTokens <= contextLength else {
                throw TrainingError.invalidConfiguration(
                    "the prompt \"\(prompt.prompt)\" (\(length) tokens) and --max-new-tokens "
                        + "\(settings.maxNewTokens) exceed the model's context of \(contextLength) tokens — shorten "
                        + "it or lower --max-new-tokens")
            }
        }
        rollout = TokenRollout(task: task, codec: codec, trainingPrompts: source.trainingPrompts,
                               reward: source.reward, promptsPerStep: settings.promptsPerStep, groupSize: groupSize,
                               maxNewTokens: settings.maxNewTokens, temperature: settings.temperature)
        if let heldOut = source.evaluationPrompts {
            evaluator = TokenEvaluator(task: task, codec: codec,
                                       prompts: Array(heldOut.prefix(settings.evaluationPrompts)),
                                       maxNewTokens: settings.maxNewTokens)
        } else {
            evaluator = TokenEvaluator(task: task, codec: codec, promptCount: settings.evaluationPrompts,
                                       seed: settings.seed, maxNewTokens: settings.maxNewTokens)
        }
    }

    /// Continues from a checkpoint this loop saved (`weights`, and `state`, its optimizer column): the weights,
    /// AdamW's t and moments, the companions' weights (in the state), the generator, the counters and the
    /// algorithm's state. Call it on a trainer just
    /// made from the run's config and starting weights.
    func restore(weights: [UInt8], state: [UInt8]) throws {
        try ResumeState.loadWeights(weights, into: policy)
        let progress = try ResumeState.decode(state, as: Progress.self, optimizer: optimizer.adam, models: companions)
        generator = progress.generator
        try algorithmState?.restore(progress.algorithm)
        resumed = progress
    }

    /// Runs the steps; `update` is the algorithm: it takes the generation batch of `step` and steps the
    /// optimizer. A spent `budget` makes the step under way the last (evaluated, checkpointed, returned).
    func run(events: TrainingEventSink, shouldStop: () -> Bool, budget: WallClockBudget = .unlimited,
             update: (TokenRolloutBatch, _ step: Int) throws -> TokenUpdate) throws -> TokenTrainingResult {
        let clock = ContinuousClock()
        let start = clock.now
        var samplingSeconds = 0.0, updateSeconds = 0.0
        var completionsUsed = resumed?.completions ?? 0
        let completionsPerDraw = rollout.promptsPerStep * rollout.groupSize
        // A run resumed from the checkpoint of its last step (its completion budget spent) has no step left.
        let budgetSpent = resumed != nil && completionBudget.map { completionsUsed >= $0 } ?? false
        for step in stride(from: (resumed?.step ?? 0) + 1, through: budgetSpent ? 0 : steps, by: 1) {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            // The schedule follows the completions spent (= step − 1 draws without dynamic sampling).
            optimizer.scheduleLearningRate(step: completionsUsed / completionsPerDraw + 1)

            // 1. Generation: G completions per prompt, scored (more draws under dynamic sampling; the
            // rollout metrics then describe every group drawn).
            let samplingStart = clock.now
            let batch: TokenRolloutBatch
            var rolloutMetrics: [String: Double]
            if let dynamicSampling {
                // The last steps draw only what the budget has left (a multiple of P·G: every draw is one),
                // so the run spends exactly the budget instead of overshooting it by a generation batch.
                let affordable = completionBudget.map { ($0 - completionsUsed) / completionsPerDraw } ?? .max
                let outcome = try dynamicSampling.collect(groups: rollout.promptsPerStep,
                                                          affordableBatches: affordable) {
                    try rollout.collect(policy: policy, generator: &generator)
                }
                batch = outcome.batch
                completionsUsed += outcome.drawn.rows
                rolloutMetrics = outcome.drawn.metrics
                rolloutMetrics["dynamic_sampling/generation_batches"] = Double(outcome.generationBatches)
                rolloutMetrics["dynamic_sampling/dropped_groups"] = Double(outcome.droppedGroups)
                rolloutMetrics["dynamic_sampling/refilled_groups"] = Double(outcome.refilledGroups)
                rolloutMetrics["dynamic_sampling/sampled_completions"] = Double(outcome.drawn.rows)
            } else {
                batch = try rollout.collect(policy: policy, generator: &generator)
                completionsUsed += batch.rows
                rolloutMetrics = batch.metrics
            }
            samplingSeconds += samplingStart.secondsUntilNow

            // 2. The algorithm's update on the generation batch.
            let updateStart = clock.now
            let outcome = try update(batch, step)
            updateSeconds += updateStart.secondsUntilNow

            var metrics = outcome.statistics.merging(rolloutMetrics) { _, rollout in rollout }
            metrics["grad_norm"] = Double(outcome.gradientNorm)
            metrics["learning_rate"] = Double(optimizer.learningRate)
            try events(.metrics(step: step, samplesSeen: completionsUsed, values: metrics))
            let isLast = step == steps || budget.isSpent || completionBudget.map { completionsUsed >= $0 } ?? false
            if step == 1 || step % Self.sampleInterval == 0 || isLast {
                try events(.samples(step: step, batch.samples(prompts: Self.loggedPrompts, update: outcome)))
            }

            // 3. Greedy evaluation on held-out prompts, samples and a checkpoint.
            if isLast || (evaluationInterval > 0 && step % evaluationInterval == 0) {
                let (evaluation, samples) = try evaluator.evaluate(policy)
                try events(.metrics(step: step, samplesSeen: completionsUsed, values: evaluation.metrics))
                try events(.samples(step: step, samples))
                try events(.progress(String(
                    format: "step %d/%d  completions %d  reward %.3f  greedy exact %.1f%%  (%.1f s)", step,
                    steps, completionsUsed, metrics["reward"] ?? .nan, 100 * evaluation.exactMatch,
                    start.secondsUntilNow)))
                let weights = policy.encodedWeights()
                let progress = Progress(
                    step: step, completions: completionsUsed, generator: generator,
                    algorithm: algorithmState?.save() ?? [:])
                try events(
                    .checkpoint(
                        step: step, configJSON: weights.configJSON, weights: weights.bytes,
                        optimizer: try ResumeState.encode(
                            optimizer: optimizer.adam, progress: progress, models: companions)))
                if isLast {
                    return TokenTrainingResult(
                        evaluation: evaluation, steps: step, completions: completionsUsed,
                        wallSeconds: start.secondsUntilNow, samplingSeconds: samplingSeconds,
                        updateSeconds: updateSeconds)
                }
            }
        }
        // Only a run resumed from its last step's checkpoint gets here: its last evaluation, as the run's result.
        let (evaluation, _) = try evaluator.evaluate(policy)
        return TokenTrainingResult(
            evaluation: evaluation, steps: resumed?.step ?? steps, completions: completionsUsed,
            wallSeconds: start.secondsUntilNow,
            samplingSeconds: samplingSeconds, updateSeconds: updateSeconds)
    }
}

/// The mean of `values` over the positions where `mask` is 1: the per-token mean of a (B, T−1) quantity over
/// completion tokens, as TRL's masked means.
func maskedMean(_ values: [Float], mask: [Double]) -> Double {
    var total = 0.0, count = 0.0
    for (value, weight) in zip(values, mask) where weight != 0 {
        total += Double(value) * weight
        count += weight
    }
    return count > 0 ? total / count : 0
}
