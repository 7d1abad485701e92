import Objectives

/// PPO for classic control (CleanRL `ppo.py` / `ppo_continuous_action.py`), every hyperparameter with its
/// CleanRL name and paper symbol. `defaults(for:)` gives tuned per-environment settings (RL Zoo's where
/// they exist).
public struct ControlPPOConfig: Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run (`total_timesteps`).
    public var totalSteps: Int = 100_000
    /// Parallel environments (`num_envs`).
    public var environments: Int = 8
    /// Steps per environment per rollout (`num_steps`); the batch is environments × steps.
    public var rolloutSteps: Int = 32
    /// Adam step size (`learning_rate`), annealed linearly to 0 when `annealLearningRate`.
    public var learningRate: Double = 1e-3
    public var annealLearningRate = true
    /// γ: discount.
    public var gamma: Double = 0.98
    /// λ: GAE parameter (`gae_lambda`).
    public var gaeLambda: Double = 0.8
    /// K: epochs over each batch (`update_epochs`).
    public var epochs: Int = 20
    /// Minibatches per epoch (`num_minibatches`).
    public var minibatches: Int = 1
    /// The loss: ε, value clipping, advantage normalisation, c₁, c₂.
    public var objective = PPOConfig(entropyCoefficient: 0)
    /// Global gradient-norm clip (`max_grad_norm`).
    public var maxGradientNorm: Double = 0.5
    /// Stop an update's epochs early once approx-KL exceeds this (`target_kl`; nil: never).
    public var targetKL: Double?
    /// Adam ε (CleanRL: 1e-5).
    public var adamEpsilon: Double = 1e-5
    /// Hidden layer sizes of actor and critic.
    public var hiddenSizes: [Int] = [64, 64]
    /// Bootstrap on truncation with the final observation's value (SB3) instead of treating it as termination (CleanRL).
    public var bootstrapOnTruncation = true
    /// Gymnasium's NormalizeObservation / NormalizeReward with CleanRL's ±10 clips.
    public var normalizeObservations = false
    public var normalizeRewards = false
    /// Greedy evaluation episodes at the end.
    public var evaluationEpisodes: Int = 20

    public init(environmentID: String) { self.environmentID = environmentID }

    public var batchSize: Int { environments * rolloutSteps }
    public var minibatchSize: Int { batchSize / max(minibatches, 1) }
    public var updates: Int { max(1, totalSteps / max(batchSize, 1)) }

    /// Tuned settings per environment.
    public static func defaults(for id: String) -> ControlPPOConfig {
        var c = ControlPPOConfig(environmentID: id)
        switch id {
        case "CartPole-v1":
            // RL Zoo: 8 envs, n_steps 32, batch 256, λ 0.8, γ 0.98, 20 epochs, lr 1e-3 linear, ent 0.
            break
        case "Acrobot-v1":
            // RL Zoo: 16 envs, n_steps 256, λ 0.94, γ 0.99, 4 epochs, SB3's minibatch of 64 (64 per epoch),
            // ent 0, obs normalisation. Greedy −84.9 ± 11.9 after 500k steps (seed 1).
            c.totalSteps = 500_000
            c.environments = 16; c.rolloutSteps = 256; c.gaeLambda = 0.94; c.gamma = 0.99; c.epochs = 4; c.minibatches = 64
            c.learningRate = 3e-4; c.normalizeObservations = true
        case "MountainCar-v0":
            // RL Zoo: 16 envs, n_steps 16, λ 0.98, γ 0.99, 4 epochs, ent 0, obs normalisation, 1M steps.
            c.totalSteps = 1_000_000
            c.environments = 16; c.rolloutSteps = 16; c.gaeLambda = 0.98; c.gamma = 0.99; c.epochs = 4; c.minibatches = 1
            c.learningRate = 3e-4; c.normalizeObservations = true
        case "MountainCarContinuous-v0":
            c.totalSteps = 300_000
            c.environments = 4; c.rolloutSteps = 512; c.gaeLambda = 0.9; c.gamma = 0.9999; c.epochs = 10; c.minibatches = 32
            c.learningRate = 7.77e-5; c.normalizeObservations = true; c.normalizeRewards = true
            c.objective = PPOConfig(clipCoefficient: 0.1, entropyCoefficient: 0.00429, valueCoefficient: 0.19)
            c.maxGradientNorm = 5
        case "Pendulum-v1":
            // RL Zoo: 4 envs, n_steps 1024, λ 0.95, γ 0.9, 10 epochs, lr 1e-3, batch 64, clip 0.2.
            c.totalSteps = 200_000
            c.environments = 4; c.rolloutSteps = 1024; c.gaeLambda = 0.95; c.gamma = 0.9; c.epochs = 10; c.minibatches = 64
            c.learningRate = 1e-3; c.normalizeObservations = true; c.normalizeRewards = true
        default:
            c.environments = 4; c.rolloutSteps = 128; c.gamma = 0.99; c.gaeLambda = 0.95; c.epochs = 4; c.minibatches = 4
            c.learningRate = 2.5e-4; c.objective = PPOConfig()
        }
        return c
    }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try objective.validate()
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidConfiguration(message) } }
        try require(totalSteps > 0, "--total-steps must be positive")
        try require(environments > 0 && rolloutSteps > 0, "--num-envs and --num-steps must be positive")
        try require(minibatches > 0 && batchSize % minibatches == 0, "the batch of \(batchSize) steps (num-envs × num-steps) is not divisible into \(minibatches) minibatches — choose a divisor")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma) && (0...1).contains(gaeLambda), "γ and λ must lie in [0, 1]")
        try require(epochs > 0, "--update-epochs must be positive")
        try require(evaluationEpisodes >= 0, "--eval-episodes must be 0 or more")
        try require(totalSteps >= batchSize, "--total-steps \(totalSteps) is smaller than one batch of \(batchSize) steps — raise it or shrink the batch")
    }
}
