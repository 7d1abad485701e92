import Autograd
import NN
import Policies
import Randomness
import Tasks

/// Supervised fine-tuning (TRL's `SFTTrainer` with `completion_only_loss`): next-token cross-entropy on
/// the completion tokens only (prompt and padding are ignored), on prompts drawn from a task with its
/// reference answers, or on a fixed list of (prompt, reference) rows from a dataset.
public struct SFTTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose prompts (unless rows are given), reference answers and evaluation to use.
    public var task: String
    /// Seed of every random draw (weights, prompts or rows).
    public var seed: UInt64 = 1
    /// The policy's shape when starting from random weights.
    public var model = TransformerConfig.tokenPolicySmall
    /// Update steps.
    public var steps = 1_500
    /// Sequences per step.
    public var batchSize = 64
    /// AdamW's base learning rate, decayed linearly to 0 over the run.
    public var learningRate = 1e-3
    /// AdamW's decoupled weight decay λ on matrices and embeddings.
    public var weightDecay = 0.0
    /// Global gradient-norm clip.
    public var maxGradientNorm = 1.0
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples, and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 250
    /// Maximum new tokens of the greedy evaluation.
    public var maxNewTokens = 8

    public init(task: String) { self.task = task }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(steps > 0 && batchSize > 0, "--steps and --batch-size must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require(maxNewTokens > 0, "--max-new-tokens must be positive")
        try require(model.modelWidth > 0 && model.modelWidth % model.heads == 0,
                    "--model-width must be a positive multiple of the \(model.heads) attention heads")
        try require(model.layers > 0, "--layers must be positive")
    }
}

public final class SFTTrainer {
    public let config: SFTTrainerConfig
    public let policy: TransformerPolicy
    let task: any SequenceTask
    /// (prompt, reference) rows to draw from instead of the task's prompt generator.
    let rows: [TaskPrompt]?
    let codec = TokenTaskCodec()
    let evaluator: TokenEvaluator
    let optimizer: TokenOptimizer
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: BatchTrainingProgress?

    /// `rows`: train on these (prompt, reference) pairs instead of drawing prompts from the task.
    public init(config: SFTTrainerConfig, rows: [TaskPrompt]? = nil, initial: TransformerPolicy? = nil) throws {
        try config.validate()
        self.config = config
        task = try TaskRegistry.task(named: config.task)
        generator = SeededGenerator(seed: config.seed)
        if let rows {
            guard !rows.isEmpty else {
                throw TrainingError.invalidConfiguration("the dataset has no rows — import or generate one first")
            }
            _ = try codec.encodeRows(rows) { codec, row in
                (try codec.encodePrompt(row.prompt), try codec.encodeCompletion(row.reference))
            }
        }
        self.rows = rows
        policy = try codec.startingPolicy(initial: initial, model: config.model, generator: &generator)
        optimizer = TokenOptimizer(
            parameters: policy.parameters,
            adam: .init(learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay)),
            baseLearningRate: config.learningRate, schedule: .linear(totalSteps: config.steps),
            maximumGradientNorm: Float(config.maxGradientNorm))
        evaluator = TokenEvaluator(task: task, codec: codec, promptCount: config.evaluationPrompts,
                                   seed: config.seed, maxNewTokens: config.maxNewTokens)
    }

    /// Continues from a checkpoint of a run of this config and rows (`weights`, and `state`, its optimizer
    /// column): the weights, AdamW's t and moments, the generator of the batches and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        resumed = try BatchTrainingProgress.restore(weights: weights, state: state, model: policy, optimizer: optimizer,
                                                    generator: &generator)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> TokenTrainingResult {
        let start = ContinuousClock.now
        var seen = resumed?.samplesSeen ?? 0
        for step in BatchTrainingProgress.steps(after: resumed, through: config.steps) {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.scheduleLearningRate(step: step)
            let batch: [TaskPrompt] = (0..<config.batchSize).map { _ in
                if let rows { return rows[generator.nextInt(below: rows.count)] }
                return task.makePrompt(using: &generator)
            }
            let sequences = PaddedSequences(prompts: try batch.map { try codec.encodePrompt($0.prompt) },
                                            completions: try batch.map { try codec.encodeCompletion($0.reference) },
                                            padID: codec.vocabulary.padID)
            let (logits, _) = policy.forward(tokens: sequences.tokens, batch: sequences.rows, time: sequences.time)
            // Cross-entropy of the completion tokens (targets −1 elsewhere), mean over them.
            let loss = logits.slice(axis: 1, 0..<(sequences.time - 1)).crossEntropy(targets: sequences.targets,
                                                                                    ignoreIndex: -1)
            guard loss.scalar.isFinite else { throw TrainingError.diverged(step: step, quantity: "the cross-entropy") }
            policy.zeroGradients()
            loss.backward()
            let norm = try optimizer.step(at: step)
            seen += batch.count
            try events(.metrics(step: step, samplesSeen: seen, values: [
                "loss": Double(loss.scalar), "grad_norm": Double(norm), "learning_rate": Double(optimizer.learningRate),
            ]))
            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let (evaluation, samples) = try evaluator.evaluate(policy)
                try events(.metrics(step: step, samplesSeen: seen, values: evaluation.metrics))
                try events(.samples(step: step, samples))
                try events(.progress(String(
                    format: "step %d/%d  loss %.4f  greedy exact %.1f%%  reward %.3f  (%.1f s)", step, config.steps,
                    loss.scalar, 100 * evaluation.exactMatch, evaluation.meanReward, start.secondsUntilNow)))
                try events(BatchTrainingProgress(step: step, samplesSeen: seen, generator: generator)
                    .checkpoint(of: policy, optimizer: optimizer))
                if isLast {
                    let wallSeconds = start.secondsUntilNow
                    return TokenTrainingResult(evaluation: evaluation, steps: step, completions: seen,
                                               wallSeconds: wallSeconds, samplingSeconds: 0, updateSeconds: wallSeconds)
                }
            }
        }
        // Only a run resumed from its last step's checkpoint gets here: its last evaluation, as the run's result.
        let (evaluation, _) = try evaluator.evaluate(policy)
        return TokenTrainingResult(evaluation: evaluation, steps: config.steps, completions: seen,
                                   wallSeconds: start.secondsUntilNow, samplingSeconds: 0, updateSeconds: 0)
    }
}
