import NN
import Policies
import Randomness
import Tasks

/// Encoding of task prompts and completions for the token policy, and the policy a token trainer starts
/// from — shared by every token trainer.
public struct TokenTaskCodec: Sendable {
    public let vocabulary: Vocabulary
    public init(vocabulary: Vocabulary = .anchor) { self.vocabulary = vocabulary }

    /// BOS + the prompt's characters.
    public func encodePrompt(_ prompt: String) throws -> [Int] { try vocabulary.encode(prompt, addBOS: true) }

    /// The completion's characters + EOS.
    public func encodeCompletion(_ completion: String) throws -> [Int] {
        try vocabulary.encode(completion, addEOS: true)
    }

    /// Text of generated ids up to (not including) EOS.
    public func completionText(_ ids: [Int]) -> String { vocabulary.completionText(fromGenerated: ids) }

    /// Whether generated ids stopped without EOS, at the length limit (TRL's `is_truncated`: the last id is
    /// not EOS).
    public func isTruncated(_ ids: [Int]) -> Bool { ids.last != vocabulary.eosID }

    /// `initial` (e.g. an SFT run's checkpoint), refused unless it speaks this vocabulary; else a policy of
    /// shape `model` with fresh weights drawn from `generator`.
    func startingPolicy(initial: TransformerPolicy?, model: TransformerConfig,
                        generator: inout SeededGenerator) throws -> TransformerPolicy {
        if let initial {
            guard initial.config.vocabularySize == vocabulary.size else {
                throw TrainingError.invalidConfiguration(
                    "the initial policy has a vocabulary of \(initial.config.vocabularySize) tokens, the tasks use "
                        + "\(vocabulary.size) — start from a run trained on PolicyLab's tasks")
            }
            return initial
        }
        var model = model
        model.vocabularySize = vocabulary.size
        return TransformerPolicy(config: model, generator: &generator)
    }
}

extension TransformerPolicy {
    /// The checkpoint event of the policy's weights (safetensors) with its config, and the trainer's resume
    /// state (`ResumeState`) when it saves one.
    func checkpoint(step: Int, state: [UInt8]? = nil) -> TrainingEvent {
        let weights = encodedWeights()
        return .checkpoint(step: step, configJSON: weights.configJSON, weights: weights.bytes, optimizer: state)
    }
}
