/// The settings every classic-control trainer's config has (PPO, REINFORCE, A2C, AC(λ), off-policy
/// actor-critic), which the CLI's shared options set.
public protocol ControlTrainingConfig {
    /// Seed of every random draw of the run.
    var seed: UInt64 { get set }
    /// Environment steps of the whole run.
    var totalSteps: Int { get set }
    /// γ: discount.
    var gamma: Double { get set }
    /// Greedy evaluation episodes at the end (and at each evaluation during training).
    var evaluationEpisodes: Int { get set }
    /// Logged steps (updates; episodes for actor-critic(λ)) between greedy evaluations during training;
    /// 0 (the default): only the final one.
    var evaluationInterval: Int { get set }
}

/// The settings of the n-step actor-critics that learn from S steps of E environments with a constant
/// Adam step size and an entropy bonus (A2C, off-policy actor-critic).
public protocol NStepActorCriticConfig: ControlTrainingConfig {
    /// E: parallel environments.
    var environments: Int { get set }
    /// n: steps per environment per update.
    var rolloutSteps: Int { get set }
    /// α: Adam step size (constant).
    var learningRate: Double { get set }
    /// c₂: entropy bonus.
    var entropyCoefficient: Double { get set }
}

extension ControlTrainingConfig {
    /// Refuses a setting before any work starts: `TrainingError.invalidConfiguration(message)` unless `ok`.
    func require(_ ok: Bool, _ message: String) throws {
        if !ok { throw TrainingError.invalidConfiguration(message) }
    }

    /// The checks of the evaluation settings every control trainer has.
    func validateEvaluationSettings() throws {
        try require(evaluationEpisodes >= 0, "--eval-episodes must be 0 or more")
        try require(evaluationInterval >= 0, "--eval-interval must be 0 (only at the end) or more")
        try require(
            evaluationInterval == 0 || evaluationEpisodes > 0,
            "--eval-interval needs --eval-episodes of 1 or more (there is nothing to evaluate with 0)")
    }
}

extension NStepActorCriticConfig {
    /// The checks of the settings A2C and off-policy actor-critic share.
    func validateNStepSettings() throws {
        try require(
            totalSteps > 0 && environments > 0 && rolloutSteps > 0,
            "--total-steps, --num-envs and --num-steps must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
    }
}
