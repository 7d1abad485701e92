import Autograd
import NN
import Objectives
import Policies
import Randomness

/// A Bradley–Terry reward model (Ouyang et al. 2022 §3.5; TRL's `RewardTrainer`): the transformer's
/// scalar head read at the last token of prompt + completion (EOS), trained on preference pairs with the
/// loss −log σ(r(chosen) − r(rejected)).
public struct RewardModelTrainerConfig: Codable, Sendable, Equatable {
    /// Seed of every random draw (weights, the held-out split, the batches).
    public var seed: UInt64 = 1
    /// The model's shape when starting from random weights.
    public var model = TransformerConfig.tokenPolicySmall
    /// Update steps.
    public var steps = 300
    /// Pairs per step.
    public var batchSize = 64
    /// AdamW's base learning rate, decayed linearly to 0 over the run (no weight decay, clip at 1).
    public var learningRate = 1e-3
    /// Fraction of pairs held out to measure preference accuracy.
    public var heldOutFraction = 0.1
    /// Evaluate (and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100

    public init() {}

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(steps > 0 && batchSize > 0, "--steps and --batch-size must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require(heldOutFraction > 0 && heldOutFraction < 1, "the held-out fraction must be in (0, 1)")
    }
}

/// Scores (prompt, completion) token sequences with a reward model: the value head at the last token.
/// The token rollout calls it when GRPO, RLOO or token PPO train against a reward model (`--reward RUN`).
public struct RewardModelScorer {
    public let model: TransformerPolicy
    public init(model: TransformerPolicy) { self.model = model }

    /// Rewards (B) without the tape.
    public func scores(prompts: [[Int]], completions: [[Int]]) -> [Double] {
        Tensor.withoutGradients {
            Self.scores(model, prompts: prompts, completions: completions).values.map(Double.init)
        }
    }

    /// Values at each row's last token, and (for the tape) the (B, T) values tensor and the picked indices.
    static func scores(_ model: TransformerPolicy, prompts: [[Int]], completions: [[Int]])
        -> (values: [Float], tensor: Tensor, indices: [Int]) {
        let rows = prompts.count
        let time = max(1, zip(prompts, completions).map { $0.count + $1.count }.max() ?? 1)
        var tokens = [Int](repeating: 0, count: rows * time)
        var last = [Int](repeating: 0, count: rows)
        for b in 0..<rows {
            let sequence = prompts[b] + completions[b]
            for (t, token) in sequence.enumerated() { tokens[b * time + t] = token }
            last[b] = b * time + sequence.count - 1
        }
        let values = model.forward(tokens: tokens, batch: rows, time: time).values          // (B, T)
        return (last.map { values.data[$0] }, values, last)
    }
}

public final class RewardModelTrainer {
    public let config: RewardModelTrainerConfig
    public let model: TransformerPolicy
    let codec = TokenTaskCodec()
    let optimizer: TokenOptimizer
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: BatchTrainingProgress?
    let training: [(prompt: [Int], chosen: [Int], rejected: [Int])]
    let heldOut: [(prompt: [Int], chosen: [Int], rejected: [Int])]

    public init(config: RewardModelTrainerConfig, pairs: [PreferenceExample],
                initial: TransformerPolicy? = nil) throws {
        try config.validate()
        guard pairs.count >= 2 else {
            throw TrainingError.invalidConfiguration(
                "a reward model needs at least 2 preference pairs — generate or import more")
        }
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        model = try codec.startingPolicy(initial: initial, model: config.model, generator: &generator)
        optimizer = TokenOptimizer(
            parameters: model.parameters, adam: .init(learningRate: Float(config.learningRate)),
            baseLearningRate: config.learningRate, schedule: .linear(totalSteps: config.steps),
            maximumGradientNorm: 1, decayMask: model.parameters.map { _ in false })
        let codec = self.codec
        let encoded = try codec.encodeRows(pairs) { codec, pair in
            (prompt: try codec.encodePrompt(pair.prompt), chosen: try codec.encodeCompletion(pair.chosen),
             rejected: try codec.encodeCompletion(pair.rejected))
        }
        let order = generator.permutation(encoded.count)
        let heldOutCount = max(1, min(encoded.count - 1, Int(Double(encoded.count) * config.heldOutFraction)))
        heldOut = order.prefix(heldOutCount).map { encoded[$0] }
        training = order.dropFirst(heldOutCount).map { encoded[$0] }
    }

    /// Share of held-out pairs where r(chosen) > r(rejected).
    public func heldOutAccuracy() -> Double {
        let scorer = RewardModelScorer(model: model)
        let chosen = scorer.scores(prompts: heldOut.map(\.prompt), completions: heldOut.map(\.chosen))
        let rejected = scorer.scores(prompts: heldOut.map(\.prompt), completions: heldOut.map(\.rejected))
        return mean(zip(chosen, rejected).map { $0 > $1 ? 1 : 0 })
    }

    /// Continues from a checkpoint of a run of this config and pairs (`weights`, and `state`, its optimizer
    /// column): the weights, AdamW's t and moments, the generator of the batches and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        resumed = try BatchTrainingProgress.restore(weights: weights, state: state, model: model, optimizer: optimizer,
                                                    generator: &generator)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false })
        throws -> (accuracy: Double, wallSeconds: Double) {
        let start = ContinuousClock.now
        var seen = resumed?.samplesSeen ?? 0
        for step in BatchTrainingProgress.steps(after: resumed, through: config.steps) {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.scheduleLearningRate(step: step)
            let batch = (0..<min(config.batchSize, training.count)).map { _ in
                training[generator.nextInt(below: training.count)]
            }
            // Chosen rows first, then rejected: r (2B).
            let scored = RewardModelScorer.scores(model, prompts: batch.map(\.prompt) + batch.map(\.prompt),
                                                  completions: batch.map(\.chosen) + batch.map(\.rejected))
            let b = batch.count
            let loss = bradleyTerryLoss(chosenRewards: scored.values[0..<b].map(Double.init),
                                        rejectedRewards: scored.values[b...].map(Double.init))
            guard loss.loss.isFinite else {
                throw TrainingError.diverged(step: step, quantity: "the Bradley–Terry loss")
            }
            // The objective's ∂loss/∂r at each row's last-token value, onto the tape.
            var gradient = [Float](repeating: 0, count: scored.tensor.count)
            for (k, index) in scored.indices.enumerated() {
                gradient[index] = Float(k < b ? loss.chosenGradient[k] : loss.rejectedGradient[k - b])
            }
            model.zeroGradients()
            scored.tensor.backward(gradient: gradient)
            try optimizer.step(at: step)
            seen += b
            try events(.metrics(step: step, samplesSeen: seen, values: ["loss": loss.loss, "accuracy": loss.accuracy]))
            if step == config.steps || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let accuracy = heldOutAccuracy()
                try events(.metrics(step: step, samplesSeen: seen, values: ["eval/accuracy": accuracy]))
                try events(.progress(String(format: "step %d/%d  loss %.4f  held-out accuracy %.1f%%", step,
                                            config.steps, loss.loss, 100 * accuracy)))
                try events(BatchTrainingProgress(step: step, samplesSeen: seen, generator: generator)
                    .checkpoint(of: model, optimizer: optimizer))
                if step == config.steps { return (accuracy, start.secondsUntilNow) }
            }
        }
        // Only a run resumed from its last step's checkpoint gets here: its held-out accuracy, as the result.
        return (heldOutAccuracy(), start.secondsUntilNow)
    }
}
