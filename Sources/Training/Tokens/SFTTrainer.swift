import Autograd
import Foundation
import NN
import Policies
import Randomness
import Tasks

/// Supervised fine-tuning: next-token cross-entropy on the completion tokens only (prompt and padding
/// are ignored), on prompts drawn from a task (with its reference answers) or on a fixed list of
/// (prompt, reference) rows from a dataset.
public struct SFTConfig: Codable, Sendable, Equatable {
    public var task: String
    public var seed: UInt64 = 1
    public var model = TransformerConfig.tokenPolicySmall
    public var steps = 1_500
    /// Sequences per step.
    public var batchSize = 64
    public var learningRate = 1e-3
    public var weightDecay = 0.0
    public var maxGradientNorm = 1.0
    /// Held-out prompts for greedy evaluation and how often to run it.
    public var evaluationPrompts = 256
    public var evaluationInterval = 250
    public var maxNewTokens = 8

    public init(task: String) { self.task = task }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidConfiguration(message) } }
        try require(steps > 0 && batchSize > 0, "--steps and --batch-size must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require(maxNewTokens > 0, "--max-new-tokens must be positive")
    }
}

public final class SFTTrainer {
    public let config: SFTConfig
    public let policy: TransformerPolicy
    let task: any SequenceTask
    let rows: [TaskPrompt]?
    let codec = TokenTaskCodec()
    var generator: SeededGenerator
    let optimizer: AdamW

    /// `rows`: train on these (prompt, reference) pairs instead of drawing prompts from the task.
    public init(config: SFTConfig, rows: [TaskPrompt]? = nil, initial: TransformerPolicy? = nil) throws {
        try config.validate()
        self.config = config
        task = try TaskRegistry.task(named: config.task)
        generator = SeededGenerator(seed: config.seed)
        if let rows {
            guard !rows.isEmpty else { throw TrainingError.invalidConfiguration("the dataset has no rows — import or generate one first") }
            for row in rows {
                _ = try codec.encodePrompt(row.prompt)
                _ = try codec.encodeCompletion(row.reference)
            }
        }
        self.rows = rows
        var model = config.model
        model.vocabularySize = codec.vocabulary.size
        policy = initial ?? TransformerPolicy(config: model, generator: &generator)
        optimizer = AdamW(parameters: policy.parameters, config: .init(learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay)))
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> TokenTrainingResult {
        let start = Date()
        let heldOut = TokenTaskEvaluation.heldOutPrompts(task: task, count: config.evaluationPrompts, seed: config.seed)
        var seen = 0
        for step in 1...config.steps {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.learningRate = Float(config.learningRate * (1 - Double(step - 1) / Double(config.steps)))
            let batch: [TaskPrompt] = (0..<config.batchSize).map { _ in
                if let rows { return rows[generator.nextInt(below: rows.count)] }
                return task.makePrompt(using: &generator)
            }
            let padded = PaddedSequences(prompts: try batch.map { try codec.encodePrompt($0.prompt) },
                                         completions: try batch.map { try codec.encodeCompletion($0.reference) }, padID: codec.vocabulary.padID)
            let (logits, _) = policy.forward(tokens: padded.tokens, batch: padded.rows, time: padded.time)
            let loss = logits.slice(axis: 1, 0..<(padded.time - 1)).crossEntropy(targets: padded.targets, ignoreIndex: -1)
            guard loss.scalar.isFinite else { throw TrainingError.diverged(step: step, quantity: "the cross-entropy") }
            policy.zeroGradients()
            loss.backward()
            let norm = clipGradientNorm(policy.parameters, maximumNorm: Float(config.maxGradientNorm))
            optimizer.step()
            seen += batch.count
            try events(.metrics(step: step, samplesSeen: seen, values: ["loss": Double(loss.scalar), "grad_norm": Double(norm), "learning_rate": Double(optimizer.learningRate)]))
            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let (evaluation, samples) = try TokenTaskEvaluation.evaluate(policy: policy, task: task, codec: codec, prompts: heldOut, maxNewTokens: config.maxNewTokens)
                try events(.metrics(step: step, samplesSeen: seen, values: ["eval/exact_match": evaluation.exactMatch, "eval/reward": evaluation.meanReward]))
                try events(.samples(step: step, samples))
                try events(.progress(String(format: "step %d/%d  loss %.4f  greedy exact %.1f%%  reward %.3f  (%.1f s)", step, config.steps, loss.scalar, 100 * evaluation.exactMatch, evaluation.meanReward, secondsSince(start))))
                let weights = policy.encodedWeights()
                try events(.checkpoint(step: step, configJSON: weights.configJSON, weights: weights.bytes, optimizer: nil))
                if isLast {
                    return TokenTrainingResult(evaluation: evaluation, steps: step, completions: seen, wallSeconds: secondsSince(start), samplingSeconds: 0, updateSeconds: secondsSince(start))
                }
            }
        }
        preconditionFailure("the last step returns")
    }
}
