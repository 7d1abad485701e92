import Autograd
import Environments
import Foundation
import NN
import Policies
import Randomness

/// The final figures of a classic-control run.
public struct ControlTrainingResult: Codable, Sendable, Equatable {
    public var evaluationReturnMean: Double
    public var evaluationReturnStandardDeviation: Double
    public var environmentSteps: Int
    public var wallSeconds: Double
    public var stepsPerSecond: Double
}

/// Helpers shared by the control trainers: the policy for an environment, actions for the vector env,
/// greedy evaluation, and checkpoint encoding.
enum ControlAgent {
    static func makePolicy(environmentID: String, hiddenSizes: [Int], generator: inout SeededGenerator) throws -> MLPActorCritic {
        let environment = try EnvironmentRegistry.make(environmentID)
        let head: ActionHead = switch environment.actionSpace {
        case .discrete(let n): .categorical(actions: n)
        case .box(let low, _): .gaussian(dimension: low.count)
        }
        return MLPActorCritic(config: .init(observationSize: environment.observationSize, head: head, hiddenSizes: hiddenSizes), generator: &generator)
    }

    /// Vector-env actions from a decision (continuous actions are clipped by the environment).
    static func actions(_ decision: MLPActorCritic.Decision, policy: MLPActorCritic, count: Int) -> [Action] {
        switch policy.config.head {
        case .categorical: return decision.discreteActions.map { .discrete($0) }
        case .gaussian(let d): return (0..<count).map { i in .continuous((0..<d).map { Double(decision.continuousActions[i * d + $0]) }) }
        }
    }

    /// Stored actions for the update: indices for categorical, vectors for Gaussian.
    static func storedActions(_ decision: MLPActorCritic.Decision, policy: MLPActorCritic) -> [Float] {
        switch policy.config.head {
        case .categorical: decision.discreteActions.map(Float.init)
        case .gaussian: decision.continuousActions
        }
    }

    /// Mean and std of the undiscounted return of `episodes` greedy episodes on fresh environments.
    static func evaluate(policy: MLPActorCritic, environmentID: String, episodes: Int, normalizer: ObservationNormalizer?, seed: UInt64) throws -> (mean: Double, standardDeviation: Double) {
        guard episodes > 0 else { return (.nan, .nan) }
        var generator = SeededGenerator(seed: seed ^ 0xE7A1_0A7E)
        var frozen = normalizer
        frozen?.frozen = true
        var returns: [Double] = []
        for _ in 0..<episodes {
            var environment = try EnvironmentRegistry.make(environmentID)
            var observation = environment.reset(generator: &generator)
            var total = 0.0
            while true {
                let input = frozen.map { n in var n = n; return n(observation, rows: 1) } ?? observation
                let decision = policy.act(observations: input, count: 1, generator: &generator, greedy: true)
                let result = try environment.step(actions(decision, policy: policy, count: 1)[0])
                total += result.reward
                observation = result.observation
                if result.terminated || result.truncated { break }
            }
            returns.append(total)
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)
        return (mean, variance.squareRoot())
    }

    /// Weights (safetensors) with the policy config and normaliser state as metadata.
    static func checkpoint(policy: MLPActorCritic, normalizer: ObservationNormalizer?) -> (configJSON: String, weights: [UInt8]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let config = String(decoding: (try? encoder.encode(policy.config)) ?? Data(), as: UTF8.self)
        var metadata = ["policy": config]
        if let normalizer, let data = try? encoder.encode(normalizer) { metadata["observation_normalizer"] = String(decoding: data, as: UTF8.self) }
        return (config, SafeTensors.write(policy.stateDictionary(), metadata: metadata))
    }

    /// Builds the surrogate Σ g·x over (tensor, gradient) pairs whose backward pass applies the
    /// objective's analytic gradients to the tape.
    static func surrogate(_ terms: [(Tensor, [Double])]) -> Tensor {
        var total: Tensor?
        for (tensor, gradient) in terms where !gradient.isEmpty {
            let term = (tensor * Tensor(shape: tensor.shape, data: gradient.map(Float.init))).sum()
            total = total.map { $0 + term } ?? term
        }
        return total ?? Tensor(scalar: 0)
    }
}
