import Foundation

/// What a trainer reports while it runs. Trainers never print or write files: the CLI wires these
/// events to the Store (metrics, samples, checkpoints) and to the terminal (progress line).
public enum TrainingEvent: Sendable {
    /// Scalars at an update step; `samplesSeen` is the budget axis (environment steps, completions, pairs).
    case metrics(step: Int, samplesSeen: Int, values: [String: Double])
    /// Completions generated at a step, for `policylab inspect`.
    case samples(step: Int, [GeneratedSample])
    /// A checkpoint: model config and weights (safetensors bytes), optionally optimiser state.
    case checkpoint(step: Int, configJSON: String, weights: [UInt8], optimizer: [UInt8]?)
    /// A one-line human summary of progress.
    case progress(String)
}

/// A completion generated during training.
public struct GeneratedSample: Sendable, Equatable {
    /// Where a sample comes from: a training step's generation batch, or the greedy evaluation.
    public enum Source: String, Sendable, Codable {
        case rollout, evaluation
    }

    public var prompt: String
    public var completion: String
    public var reward: Double?
    public var logProbability: Double?
    public var source: Source?
    /// The prompt's index among the prompts logged at the step (rollout samples: the G completions of a
    /// prompt share it).
    public var group: Int?
    /// The advantage the update gave the completion.
    public var advantage: Double?
    /// Completion tokens, EOS included.
    public var length: Int?
    /// Whether the completion hit the length limit without EOS.
    public var truncated: Bool?
    /// Token PPO: the value estimate V(prompt) before the first completion token.
    public var value: Double?
    /// Token PPO: the per-token KL to the reference of each completion token.
    public var tokenKL: [Double]?

    public init(prompt: String, completion: String, reward: Double? = nil, logProbability: Double? = nil,
                source: Source? = nil, group: Int? = nil, advantage: Double? = nil, length: Int? = nil,
                truncated: Bool? = nil, value: Double? = nil, tokenKL: [Double]? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.logProbability = logProbability
        self.source = source
        self.group = group
        self.advantage = advantage
        self.length = length
        self.truncated = truncated
        self.value = value
        self.tokenKL = tokenKL
    }
}

/// Receives events; throwing stops training (e.g. the database became unwritable).
public typealias TrainingEventSink = (TrainingEvent) throws -> Void

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A loss or gradient became NaN or infinite.
    case diverged(step: Int, quantity: String)
    /// The user interrupted (Ctrl-C).
    case interrupted(step: Int)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .diverged(let step, let quantity):
            "training diverged at step \(step): \(quantity) is not finite — lower the learning rate or enable "
                + "gradient clipping; the last good checkpoint is kept"
        case .interrupted(let step):
            "training was interrupted at step \(step) — the run is marked interrupted; its last checkpoint is kept"
        case .invalidConfiguration(let message):
            message
        }
    }
}

