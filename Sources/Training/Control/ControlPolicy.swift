import Environments
import Foundation
import NN
import Policies
import Randomness

// The MLP actor-critic on a classic-control environment: built for the environment's spaces, its
// decisions turned into environment actions and into the actions the update stores, and its checkpoint.

/// The final figures of a classic-control run.
public struct ControlTrainingResult: Codable, Sendable, Equatable {
    public var evaluationReturnMean: Double
    public var evaluationReturnStandardDeviation: Double
    public var environmentSteps: Int
    public var wallSeconds: Double
    public var stepsPerSecond: Double
}

extension MLPActorCritic {
    /// CleanRL's actor-critic for `environmentID`: a categorical head for a discrete action space, a
    /// diagonal Gaussian for a box.
    static func make(
        environmentID: String, hiddenSizes: [Int], generator: inout SeededGenerator
    ) throws -> MLPActorCritic {
        let environment = try EnvironmentRegistry.make(environmentID)
        let head: ActionHead =
            switch environment.actionSpace {
            case .discrete(let n): .categorical(actions: n)
            case .box(let low, _): .gaussian(dimension: low.count)
            }
        let config = Config(observationSize: environment.observationSize, head: head, hiddenSizes: hiddenSizes)
        return MLPActorCritic(config: config, generator: &generator)
    }

    /// Environment actions of a decision for `count` rows (continuous actions are clipped by the
    /// environment, not here).
    func environmentActions(_ decision: Decision, count: Int) -> [Action] {
        switch config.head {
        case .categorical:
            return decision.discreteActions.map { .discrete($0) }
        case .gaussian(let d):
            return (0..<count).map { i in .continuous((0..<d).map { Double(decision.continuousActions[i * d + $0]) }) }
        }
    }

    /// The actions `evaluate` takes back: indices as Float for categorical, (N, d) vectors for Gaussian.
    func storedActions(_ decision: Decision) -> [Float] {
        switch config.head {
        case .categorical: decision.discreteActions.map(Float.init)
        case .gaussian: decision.continuousActions
        }
    }

    /// Weights (safetensors) with the policy config and the observation normaliser's state as metadata.
    func checkpoint(normalizer: ObservationNormalizer?) -> (configJSON: String, weights: [UInt8]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let configJSON = String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
        var metadata = ["policy": configJSON]
        if let normalizer, let data = try? encoder.encode(normalizer) {
            metadata["observation_normalizer"] = String(decoding: data, as: UTF8.self)
        }
        return (configJSON, SafeTensors.write(stateDictionary(), metadata: metadata))
    }
}

/// Seconds elapsed since `start` on the monotonic clock (wall-clock time that never jumps).
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = start.duration(to: .now).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
}
