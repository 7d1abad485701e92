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
    public var prompt: String
    public var completion: String
    public var reward: Double?
    public var logProbability: Double?
    public init(prompt: String, completion: String, reward: Double? = nil, logProbability: Double? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.logProbability = logProbability
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

