import Autograd
import Foundation
import NN
import Randomness

/// The kind of action distribution a policy outputs.
public enum ActionHead: Codable, Sendable, Equatable {
    /// A categorical distribution over n actions (logits from the actor).
    case categorical(actions: Int)
    /// A diagonal Gaussian with state-independent log standard deviations (CleanRL
    /// `ppo_continuous_action.py`'s `actor_logstd`), actions of the given dimension.
    case gaussian(dimension: Int)

    public var outputs: Int {
        switch self {
        case .categorical(let n): n
        case .gaussian(let d): d
        }
    }
}

/// CleanRL's PPO agent: separate actor and critic MLPs (tanh, 64-64 by default), orthogonal init with gain
/// √2 on hidden layers, 0.01 on the policy output and 1 on the value output.
public final class MLPActorCritic: Module {
    public struct Config: Codable, Sendable, Equatable {
        public var observationSize: Int
        public var head: ActionHead
        public var hiddenSizes: [Int] = [64, 64]
        public var activation: Activation = .tanh
        public init(
            observationSize: Int, head: ActionHead, hiddenSizes: [Int] = [64, 64], activation: Activation = .tanh
        ) {
            self.observationSize = observationSize
            self.head = head
            self.hiddenSizes = hiddenSizes
            self.activation = activation
        }
    }

    public let config: Config
    public let actor: MLP
    public let critic: MLP
    /// log σ per action dimension (Gaussian head only), initialised to 0.
    public let logStandardDeviation: Tensor?

    public init(config: Config, generator: inout SeededGenerator) {
        self.config = config
        critic = MLP(
            sizes: [config.observationSize] + config.hiddenSizes + [1], activation: config.activation, outputGain: 1,
            generator: &generator)
        actor = MLP(
            sizes: [config.observationSize] + config.hiddenSizes + [config.head.outputs], activation: config.activation,
            outputGain: 0.01, generator: &generator)
        if case .gaussian(let d) = config.head {
            logStandardDeviation = Tensor(zeros: [1, d], requiresGrad: true)
        } else {
            logStandardDeviation = nil
        }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("critic", critic.namedParameters) + prefixed("actor", actor.namedParameters)
            + (logStandardDeviation.map { [("actor_logstd", $0)] } ?? [])
    }

    /// Actions drawn (or chosen greedily) for a batch of observations, with their log-probabilities and values.
    public struct Decision {
        /// (N) action indices for a categorical head.
        public var discreteActions: [Int]
        /// (N, d) actions for a Gaussian head (unclipped samples).
        public var continuousActions: [Float]
        public var logProbabilities: [Float]
        public var values: [Float]
    }

    /// Rollout-time decision without recording the tape. `greedy` takes the mode (argmax / mean). The
    /// draws and their log-probabilities are `Categorical`'s and `DiagonalGaussian`'s, as in `evaluate`.
    public func act(
        observations: [Float], count: Int, generator: inout SeededGenerator, greedy: Bool = false
    ) -> Decision {
        Tensor.withoutGradients {
            let x = Tensor(shape: [count, config.observationSize], data: observations)
            let values = critic(x).data
            let out = actor(x)
            var decision = Decision(discreteActions: [], continuousActions: [], logProbabilities: [], values: values)
            switch config.head {
            case .categorical(let n):
                decision.discreteActions.reserveCapacity(count)
                decision.logProbabilities.reserveCapacity(count)
                var weights = [Float](repeating: 0, count: n)
                out.data.withUnsafeBufferPointer { logits in
                    for i in 0..<count {
                        let (action, logProbability) = Categorical.draw(
                            logits: logits.baseAddress! + i * n, count: n, greedy: greedy, weights: &weights,
                            generator: &generator)
                        decision.discreteActions.append(action)
                        decision.logProbabilities.append(logProbability)
                    }
                }
            case .gaussian:
                (decision.continuousActions, decision.logProbabilities) = DiagonalGaussian.draw(
                    means: out, logStandardDeviations: logStandardDeviation!, greedy: greedy, generator: &generator)
            }
            return decision
        }
    }

    /// The critic's values for a batch, without the tape.
    public func values(observations: [Float], count: Int) -> [Float] {
        Tensor.withoutGradients { critic(Tensor(shape: [count, config.observationSize], data: observations)).data }
    }

    /// Log-probabilities of given actions, entropies and values, on the tape (for the update).
    /// `actions`: (N) indices as Float for categorical, (N, d) for Gaussian.
    public func evaluate(
        observations: Tensor, actions: [Float]
    ) -> (logProbabilities: Tensor, entropy: Tensor, values: Tensor) {
        let count = observations.shape[0]
        let values = critic(observations).reshaped([count])
        let out = actor(observations)
        switch config.head {
        case .categorical:
            let logp = Categorical.logProbabilities(logits: out)  // (N, A)
            let chosen = logp.pick(actions.map { Int($0) })  // (N)
            return (chosen, Categorical.entropy(logProbabilities: logp), values)
        case .gaussian(let d):
            let logStd = logStandardDeviation!  // (1, d)
            let logp = DiagonalGaussian.logProbabilities(
                actions: Tensor(shape: [count, d], data: actions), means: out, logStandardDeviations: logStd)
            return (logp, DiagonalGaussian.entropy(logStandardDeviations: logStd, rows: count), values)
        }
    }
}
