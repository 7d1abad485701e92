import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// KTO (Ethayarajh et al. 2024) on unpaired completions, with TRL 1.16's `KTOTrainer` semantics: each row is
/// a prompt, a completion and a label (desirable or not); the loss is `ktoLoss` (Objectives/KTO.swift) on the
/// completion tokens' sequence log-probs against a frozen reference; the KL reference point z₀ comes from
/// the batch's mismatched pairs, built as TRL builds them, by rotating the completions by one within the
/// batch: (x₁, y_B), (x₂, y₁), …, (x_B, y_{B−1}). Policy and reference log-probs of the mismatched pairs are
/// computed without the tape (TRL's `torch.no_grad()`); the reference runs on every batch, since the
/// mismatched pairs change with the batch.
///
/// Symbols: β the implicit reward's inverse temperature, λ_D / λ_U the desirable / undesirable weights.
public struct KTOTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose held-out prompts and reward the greedy evaluation uses (nil: none).
    public var task: String?
    /// Seed of every random draw (the held-out split, the batches).
    public var seed: UInt64 = 1
    /// β, λ_D, λ_U and the loss type: TRL's `KTOConfig`.
    public var objective = KTOConfig()
    /// Update steps.
    public var steps = 300
    /// Rows per step (TRL `per_device_train_batch_size`; the mismatched pairs are built within it, so ≥ 2).
    public var batchSize = 64
    /// AdamW's base learning rate, decayed linearly to 0 over the run (no weight decay).
    public var learningRate = 1e-4
    /// Global gradient-norm clip.
    public var maxGradientNorm = 1.0
    /// Fraction of rows held out to measure label accuracy.
    public var heldOutFraction = 0.1
    /// Evaluate (and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100
    /// Held-out task prompts for the greedy evaluation (when `task` is set).
    public var evaluationPrompts = 256
    /// Maximum new tokens of the greedy evaluation.
    public var maxNewTokens = 8

    public init(task: String?) { self.task = task }

    public func validate() throws {
        try objective.validate()
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(steps > 0, "--steps must be positive")
        try require(batchSize >= 2, "--batch-size must be at least 2 (KTO's mismatched pairs are built within a batch)")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require(heldOutFraction >= 0 && heldOutFraction < 1, "the held-out fraction must be in [0, 1)")
    }
}

/// One unpaired completion as text: `desirable` is TRL's `label`.
public struct UnpairedExample: Sendable, Equatable {
    public var prompt: String
    public var completion: String
    public var desirable: Bool
    public init(prompt: String, completion: String, desirable: Bool) {
        self.prompt = prompt
        self.completion = completion
        self.desirable = desirable
    }
}

public struct KTOTrainingResult: Codable, Sendable, Equatable {
    /// Held-out label accuracy: share of rows whose implicit reward β·(log π − log π_ref) is positive for a
    /// desirable completion and negative for an undesirable one.
    public var heldOutAccuracy: Double
    public var evaluation: TokenEvaluation?
    public var steps: Int
    public var rows: Int
    public var wallSeconds: Double
}

public final class KTOTrainer {
    public let config: KTOTrainerConfig
    public let policy: TransformerPolicy
    /// π_ref, frozen.
    let reference: TransformerPolicy
    let codec = TokenTaskCodec()
    let evaluator: TokenEvaluator?
    let optimizer: TokenOptimizer
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: BatchTrainingProgress?
    let training: [EncodedRow]
    let heldOut: [EncodedRow]
    /// The evaluation step's events, shared with DPO (`PreferenceEvaluationReport`).
    static let evaluationReport = PreferenceEvaluationReport(metricName: "eval/label_accuracy", progressWord: "label")

    struct EncodedRow {
        var prompt: [Int]
        var completion: [Int]
        var desirable: Bool
    }

    /// `reference`: the frozen reference; the policy starts from `initial` or a copy of the reference.
    public init(config: KTOTrainerConfig, rows: [UnpairedExample], reference: TransformerPolicy,
                initial: TransformerPolicy? = nil) throws {
        try config.validate()
        guard reference.config.vocabularySize == codec.vocabulary.size else {
            throw TrainingError.invalidConfiguration(
                "the reference run's vocabulary has \(reference.config.vocabularySize) tokens, the tasks use "
                    + "\(codec.vocabulary.size) — use a reference trained on PolicyLab's tasks")
        }
        guard rows.count >= 3 else {
            throw TrainingError.invalidConfiguration("KTO needs at least 3 unpaired rows — import or generate more")
        }
        self.config = config
        self.reference = reference
        evaluator = try config.task.map {
            TokenEvaluator(task: try TaskRegistry.task(named: $0), codec: TokenTaskCodec(),
                           promptCount: config.evaluationPrompts, seed: config.seed, maxNewTokens: config.maxNewTokens)
        }
        generator = SeededGenerator(seed: config.seed)
        policy = initial ?? reference.copy()
        optimizer = TokenOptimizer(
            parameters: policy.parameters, adam: .init(learningRate: Float(config.learningRate)),
            baseLearningRate: config.learningRate, schedule: .linear(totalSteps: config.steps),
            maximumGradientNorm: Float(config.maxGradientNorm), decayMask: policy.parameters.map { _ in false })
        let contextLength = reference.config.contextLength
        let encoded = try codec.encodeRows(rows) { codec, row -> EncodedRow in
            let encoded = EncodedRow(prompt: try codec.encodePrompt(row.prompt),
                                     completion: try codec.encodeCompletion(row.completion), desirable: row.desirable)
            guard encoded.prompt.count + encoded.completion.count <= contextLength else {
                throw TrainingError.invalidConfiguration(
                    "a row (prompt \(row.prompt)) is longer than the model's context of \(contextLength) tokens")
            }
            return encoded
        }
        // Every mismatched pair must fit the context too: the longest prompt with the longest completion.
        let longest = (encoded.map(\.prompt.count).max() ?? 0) + (encoded.map(\.completion.count).max() ?? 0)
        guard longest <= contextLength else {
            throw TrainingError.invalidConfiguration(
                "the longest prompt with the longest completion (\(longest) tokens) exceeds the model's context of "
                    + "\(contextLength) tokens, and KTO pairs prompts with other rows' completions")
        }
        var order = generator.permutation(encoded.count)
        let heldOutCount = min(encoded.count - 2, Int((Double(encoded.count) * config.heldOutFraction).rounded()))
        heldOut = order.prefix(heldOutCount).map { encoded[$0] }
        order.removeFirst(heldOutCount)
        training = order.map { encoded[$0] }
    }

    /// Continues from a checkpoint of a run of this config, unpaired rows and reference (`weights`, and `state`, its
    /// optimizer column): the weights, AdamW's t and moments, the generator of the batches and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        resumed = try BatchTrainingProgress.restore(weights: weights, state: state, model: policy, optimizer: optimizer,
                                                    generator: &generator)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> KTOTrainingResult {
        let start = ContinuousClock.now
        var seen = resumed?.samplesSeen ?? 0
        for step in BatchTrainingProgress.steps(after: resumed, through: config.steps) {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.scheduleLearningRate(step: step)
            let batch = (0..<min(config.batchSize, training.count)).map { _ in
                training[generator.nextInt(below: training.count)]
            }
            let batchLoss = lossAndGradients(batch)
            guard batchLoss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the KTO loss") }
            try optimizer.step(at: step)
            seen += batch.count
            try events(.metrics(step: step, samplesSeen: seen, values: batchLoss.metrics))

            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let accuracy = heldOutAccuracy()
                let evaluation = try Self.evaluationReport.emit(
                    step: step, steps: config.steps, samplesSeen: seen, loss: batchLoss.loss, accuracy: accuracy,
                    policy: policy, evaluator: evaluator, start: start, events: events,
                    progress: BatchTrainingProgress(step: step, samplesSeen: seen, generator: generator),
                    optimizer: optimizer)
                if isLast {
                    return KTOTrainingResult(heldOutAccuracy: accuracy, evaluation: evaluation, steps: step,
                                             rows: seen, wallSeconds: start.secondsUntilNow)
                }
            }
        }
        // Only a run resumed from its last step's checkpoint gets here: its last evaluation, as the run's result.
        return KTOTrainingResult(
            heldOutAccuracy: heldOutAccuracy(), evaluation: try evaluator?.evaluate(policy).0, steps: config.steps,
            rows: seen, wallSeconds: start.secondsUntilNow)
    }

    /// The loss of one batch and what the trainer logs about it (`loss` and the objective's statistics).
    struct BatchLoss {
        var loss: Double
        var metrics: [String: Double]
    }

    /// The mismatched pairs of a batch: row i's prompt with row i−1's completion (row 0 with the last one).
    static func mismatched(_ batch: [EncodedRow]) -> [EncodedRow] {
        batch.indices.map { i in
            EncodedRow(prompt: batch[i].prompt, completion: batch[(i + batch.count - 1) % batch.count].completion,
                       desirable: batch[i].desirable)
        }
    }

    /// The KTO loss of `batch` and ∂loss/∂θ, left in every parameter's `grad`: `ktoLoss`'s gradient with
    /// respect to each row's sequence log-prob, spread over its completion tokens and carried onto the tape.
    func lossAndGradients(_ batch: [EncodedRow]) -> BatchLoss {
        let (policyLogProbabilities, tokens, mask) = Self.sequenceLogProbabilities(policy, batch, recordTape: true)
        let referenceLogProbabilities = Self.sequenceLogProbabilities(reference, batch, recordTape: false).values
        var inputs = KTOLogProbabilities(
            policy: policyLogProbabilities, reference: referenceLogProbabilities, labels: batch.map(\.desirable))
        if config.objective.usesReferencePoint {
            let pairs = Self.mismatched(batch)
            inputs.policyMismatched = Self.sequenceLogProbabilities(policy, pairs, recordTape: false).values
            inputs.referenceMismatched = Self.sequenceLogProbabilities(reference, pairs, recordTape: false).values
        }
        let loss = ktoLoss(config: config.objective, inputs)
        var metrics = loss.statistics.values
        metrics["loss"] = loss.loss
        guard loss.loss.isFinite, let tokens else { return BatchLoss(loss: loss.loss, metrics: metrics) }
        let width = mask.count / batch.count
        var gradient = [Float](repeating: 0, count: mask.count)
        for r in batch.indices {
            for j in 0..<width where mask[r * width + j] != 0 { gradient[r * width + j] = Float(loss.gradient[r]) }
        }
        policy.zeroGradients()
        tokens.backward(gradient: gradient)
        return BatchLoss(loss: loss.loss, metrics: metrics)
    }

    /// Σ of the completion tokens' log-probs of each row; with the tape, the (B, T−1) token log-probs and the
    /// completion mask for the backward pass.
    static func sequenceLogProbabilities(_ policy: TransformerPolicy, _ rows: [EncodedRow], recordTape: Bool)
        -> (values: [Double], tokens: Tensor?, mask: [Double]) {
        let sequences = PaddedSequences(prompts: rows.map(\.prompt), completions: rows.map(\.completion), padID: 0)
        let compute = {
            policy.nextTokenLogProbabilities(tokens: sequences.tokens, batch: rows.count, time: sequences.time)
        }
        let logp = recordTape ? compute() : Tensor.withoutGradients(compute)
        let width = sequences.time - 1
        var sums = [Double](repeating: 0, count: rows.count)
        for r in rows.indices {
            var sum: Float = 0
            for j in 0..<width where sequences.completionMask[r * width + j] != 0 { sum += logp.data[r * width + j] }
            sums[r] = Double(sum)
        }
        return (sums, recordTape ? logp : nil, sequences.completionMask)
    }

    /// Share of held-out rows whose implicit reward has the label's sign (positive when desirable).
    public func heldOutAccuracy() -> Double {
        guard !heldOut.isEmpty else { return .nan }
        var correct = 0
        for start in stride(from: 0, to: heldOut.count, by: 256) {
            let chunk = Array(heldOut[start..<min(heldOut.count, start + 256)])
            let policyValues = Self.sequenceLogProbabilities(policy, chunk, recordTape: false).values
            let referenceValues = Self.sequenceLogProbabilities(reference, chunk, recordTape: false).values
            for (k, row) in chunk.enumerated() where (policyValues[k] > referenceValues[k]) == row.desirable {
                correct += 1
            }
        }
        return Double(correct) / Double(heldOut.count)
    }
}
