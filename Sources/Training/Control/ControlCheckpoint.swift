import Foundation
import NN
import Policies
import Randomness

// Reading back what `MLPActorCritic.checkpoint(normalizer:)` wrote: the policy config, the weights, and the
// observation normaliser's statistics (frozen), so that any control run can be evaluated again (`policylab eval`).

/// A control run's checkpoint that cannot be read as an actor-critic.
public enum ControlCheckpointError: Error, CustomStringConvertible, Equatable {
    case notAControlPolicy(reason: String)

    public var description: String {
        switch self {
        case .notAControlPolicy(let reason):
            "the checkpoint is not a classic-control actor-critic (\(reason)) — pick a run of ppo, reinforce, a2c, "
                + "ac-lambda, off-policy or ac-average-reward"
        }
    }
}

/// A control policy restored from a checkpoint.
public struct ControlCheckpoint {
    public let policy: MLPActorCritic
    /// The normaliser's statistics at the checkpoint, frozen (nil when the run did not normalise).
    public let normalizer: ObservationNormalizer?

    public init(configJSON: String, weights: [UInt8]) throws {
        let decoder = JSONDecoder()
        guard let config = try? decoder.decode(MLPActorCritic.Config.self, from: Data(configJSON.utf8)) else {
            throw ControlCheckpointError.notAControlPolicy(reason: "its config is not an MLP actor-critic's")
        }
        var generator = SeededGenerator(seed: 0)  // every weight is overwritten by the checkpoint's
        policy = MLPActorCritic(config: config, generator: &generator)
        let contents: (tensors: [String: SafeTensors.Entry], metadata: [String: String])
        do {
            contents = try SafeTensors.read(weights)
            try policy.load(contents.tensors.mapValues { ($0.shape, $0.float32) })
        } catch {
            throw ControlCheckpointError.notAControlPolicy(reason: "\(error)")
        }
        if let state = contents.metadata["observation_normalizer"] {
            guard var restored = try? decoder.decode(ObservationNormalizer.self, from: Data(state.utf8)) else {
                throw ControlCheckpointError.notAControlPolicy(reason: "its observation normaliser is unreadable")
            }
            restored.frozen = true
            normalizer = restored
        } else {
            normalizer = nil
        }
    }
}
