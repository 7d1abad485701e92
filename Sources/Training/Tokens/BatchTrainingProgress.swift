import Policies
import Randomness

/// What SFT, DPO, KTO and the reward model carry from one step to the next besides the weights and AdamW's
/// state: the steps done, the examples seen and the generator that draws every batch (after the held-out
/// split, which it drew first). Each checkpoint saves it with AdamW's t and moments (`ResumeState`), so that
/// `train … --resume RUN` continues the run bit for bit; what does not move — the rows and their held-out
/// split, the frozen reference and DPO's precomputed reference log-probs, the evaluation's prompts and the
/// learning-rate schedule, set from the step — is made again from the run's config and inputs, the same way.
struct BatchTrainingProgress: Codable {
    var step: Int
    var samplesSeen: Int
    var generator: SeededGenerator

    /// The checkpoint of `model` at this progress, with `optimizer`'s state.
    func checkpoint(of model: TransformerPolicy, optimizer: TokenOptimizer) throws -> TrainingEvent {
        model.checkpoint(step: step, state: try ResumeState.encode(optimizer: optimizer.adam, progress: self))
    }

    /// Gives `model` the checkpoint's weights, `optimizer` its state and `generator` the batches' generator;
    /// returns the progress saved with them. Call it on a trainer just made from the run's config and inputs.
    static func restore(
        weights: [UInt8], state: [UInt8], model: TransformerPolicy, optimizer: TokenOptimizer,
        generator: inout SeededGenerator
    ) throws -> Self {
        try ResumeState.loadWeights(weights, into: model)
        let progress = try ResumeState.decode(state, as: Self.self, optimizer: optimizer.adam)
        generator = progress.generator
        return progress
    }

    /// The steps a trainer takes: those after `resumed`'s, or all of them (none when it was the last).
    static func steps(after resumed: Self?, through last: Int) -> StrideThrough<Int> {
        stride(from: (resumed?.step ?? 0) + 1, through: last, by: 1)
    }
}
