import Environments
import Objectives
import Randomness
import Training

/// Classic-control figures: CartPole steps and PPO on CartPole, at the settings of ANCHORS.md.
public enum EnvironmentBenchmarks {
    /// CartPole-v1 steps/s through the public path a trainer or user takes, as Gymnasium's figure
    /// (`env = gymnasium.make("CartPole-v1")`, actions pre-sampled, `obs, r, term, trunc, _ = env.step(a)`,
    /// reset when the episode ends): an `any Environment` from the registry, `step(.discrete(a))` returning
    /// the observation, reward and flags.
    public static func cartPoleStepsPerSecond(steps: Int) throws -> Double {
        var generator = SeededGenerator(seed: 1)
        let actions = (0..<4096).map { _ in generator.nextInt(below: 2) }
        var environment = try EnvironmentRegistry.make("CartPole-v1")
        _ = environment.reset(generator: &generator)
        var observed: Float = 0
        let seconds = try BenchmarkTiming.time {
            for i in 0..<steps {
                let result = try environment.step(.discrete(actions[i & 4095]))
                observed += result.observation[0]
                if result.terminated || result.truncated { _ = environment.reset(generator: &generator) }
            }
        }
        observationSink = observed
        return Double(steps) / seconds
    }

    /// CartPole-v1 steps/s of the bare dynamics (`stepDiscrete`: no validation, no observation array),
    /// the vector environment's inner loop; not comparable with Gymnasium's `env.step`.
    public static func cartPoleRawStepsPerSecond(steps: Int) -> Double {
        var generator = SeededGenerator(seed: 1)
        let actions = (0..<4096).map { _ in generator.nextInt(below: 2) }
        var environment = CartPole()
        _ = environment.reset(generator: &generator)
        let seconds = BenchmarkTiming.time {
            for i in 0..<steps {
                environment.stepDiscrete(actions[i & 4095])
                if environment.lastTerminated || environment.elapsedSteps >= environment.timeLimit {
                    _ = environment.reset(generator: &generator)
                }
            }
        }
        return Double(steps) / seconds
    }

    /// CartPole-v1 steps/s of 8 copies stepped together through `VectorEnvironment` (auto-reset).
    public static func cartPoleVectorStepsPerSecond(steps: Int, copies: Int = 8) throws -> Double {
        var generator = SeededGenerator(seed: 1)
        let actions = (0..<4096).map { _ in generator.nextInt(below: 2) }
        let vector = try VectorEnvironment(id: "CartPole-v1", count: copies, generator: &generator)
        let batches = max(1, steps / copies)
        let seconds = try BenchmarkTiming.time {
            for i in 0..<batches {
                _ = try vector.step((0..<copies).map { .discrete(actions[(i * copies + $0) & 4095]) })
            }
        }
        return Double(batches * copies) / seconds
    }

    /// CleanRL `ppo.py`'s defaults on CartPole-v1 (the anchor's setting): 4 environments × 128 steps,
    /// 4 epochs × 4 minibatches, lr 2.5e-4 annealed, γ 0.99, λ 0.95, ε 0.2, c₁ 0.5, c₂ 0.01, clipped
    /// value loss, normalised advantages, gradient clip 0.5, truncation treated as termination.
    public static func cleanRLCartPoleConfig(totalSteps: Int) -> ControlPPOConfig {
        var config = ControlPPOConfig(environmentID: "CartPole-v1")
        config.totalSteps = totalSteps
        config.environments = 4
        config.rolloutSteps = 128
        config.epochs = 4
        config.minibatches = 4
        config.learningRate = 2.5e-4
        config.annealLearningRate = true
        config.gamma = 0.99
        config.gaeLambda = 0.95
        config.objective = PPOConfig(clipCoefficient: 0.2, entropyCoefficient: 0.01, valueCoefficient: 0.5)
        config.maxGradientNorm = 0.5
        config.targetKL = nil
        config.adamEpsilon = 1e-5
        config.hiddenSizes = [64, 64]
        config.bootstrapOnTruncation = false
        config.normalizeObservations = false
        config.normalizeRewards = false
        config.evaluationEpisodes = 0
        return config
    }

    /// PPO environment steps per second over `totalSteps` (no evaluation): CleanRL's defaults, or the
    /// RL Zoo settings that `train ppo --env CartPole-v1` uses by default (`rlZoo`).
    public static func ppoCartPoleStepsPerSecond(totalSteps: Int, rlZoo: Bool = false) throws -> Double {
        var config = rlZoo
            ? ControlPPOConfig.defaults(for: "CartPole-v1") : cleanRLCartPoleConfig(totalSteps: totalSteps)
        config.totalSteps = totalSteps
        config.evaluationEpisodes = 0
        return try ControlPPOTrainer(config: config).train(events: { _ in }).stepsPerSecond
    }
}

/// Where the CartPole figure's observations go, so that the optimiser cannot drop them.
nonisolated(unsafe) private var observationSink: Float = 0
