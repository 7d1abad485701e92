import Autograd
import Environments
import NN
import Objectives
import Policies
import Randomness

// Advantage actor-critic (Mnih et al. 2016, synchronous): n steps of E environments → n-step
// bootstrapped returns R_t (GAE with λ = 1) → one gradient step on
// −mean((R_t − V(s_t))·log π(a_t|s_t)) + c₁·½·mean((R_t − V(s_t))²) − c₂·mean(entropy).
// With n = 1 this is the one-step actor-critic of Sutton & Barto 2018 §13.5.

/// A2C's hyperparameters.
public struct A2CConfig: NStepActorCriticConfig, Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run.
    public var totalSteps = 300_000
    /// E: parallel environments.
    public var environments = 16
    /// n: steps per environment per update (n of the n-step return; 1 = one-step actor-critic).
    public var rolloutSteps = 8
    /// α: Adam step size (constant).
    public var learningRate = 1e-3
    /// γ: discount.
    public var gamma = 0.99
    /// c₁: value-loss weight; c₂: entropy bonus.
    public var valueCoefficient = 0.5
    public var entropyCoefficient = 0.01
    /// Global gradient-norm clip.
    public var maxGradientNorm = 0.5
    /// Hidden layer sizes of actor and critic.
    public var hiddenSizes = [64, 64]
    /// Greedy evaluation episodes at the end.
    public var evaluationEpisodes = 20
    /// Logged steps between greedy evaluations during training (0: only at the end).
    public var evaluationInterval = 0

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try validateNStepSettings()
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try validateEvaluationSettings()
    }
}

/// A2C on classic control; `train` reads top to bottom.
public final class A2CTrainer: ResumableBatchControlTrainer {
    public let config: A2CConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW
    let rollouts: ControlRolloutCollector
    var rolloutCollector: ControlRolloutCollector? { rollouts }
    /// Where a resumed run continues (nil: from the start).
    var resumed: BatchControlProgress?

    public init(config: A2CConfig) throws {
        try config.validate()
        self.config = config
        let start = try ControlTrainerStart(
            environmentID: config.environmentID, seed: config.seed, environments: config.environments,
            hiddenSizes: config.hiddenSizes, learningRate: config.learningRate)
        generator = start.generator
        environments = start.environments
        policy = start.policy
        optimizer = start.optimizer
        rollouts = ControlRolloutCollector(environments: environments)
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, Adam, the generator, the environments mid-episode, the collector and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try restoreCheckpoint(weights: weights, state: state)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> ControlTrainingResult {
        let start = ContinuousClock.now
        var steps = resumed?.environmentSteps ?? 0, update = resumed?.update ?? 0
        var progress = ControlProgress(
            start: start, interval: 25, recentReturns: resumed?.recentReturns ?? [],
            evaluation: ControlPeriodicEvaluation(config: config, environmentID: config.environmentID))
        let gradientStep = ControlUpdate(
            policy: policy, optimizer: optimizer, entropyCoefficient: config.entropyCoefficient,
            maxGradientNorm: config.maxGradientNorm)
        while steps < config.totalSteps {
            if shouldStop() { throw TrainingError.interrupted(step: update) }
            update += 1
            // n steps of every environment, then n-step returns bootstrapped from V (truncation included).
            let rollout = try rollouts.collect(
                steps: config.rolloutSteps, policy: policy, acting: policy, truncationValues: .oneEnvironmentAtATime,
                generator: &generator)
            let (_, returns) = generalizedAdvantages(
                rewards: rollout.rewards, values: rollout.values, dones: rollout.dones, nextValue: rollout.nextValues,
                nextDone: rollout.nextDone, environments: config.environments, gamma: config.gamma, lambda: 1,
                truncationBootstrap: rollout.truncationBootstrap)
            steps += config.environments * config.rolloutSteps
            let finished = rollout.finishedEpisodes.map(\.totalReward)

            // One gradient step on the actor-critic loss.
            let evaluation = policy.evaluate(
                observations: Tensor(shape: [returns.count, environments.observationSize], data: rollout.observations),
                actions: rollout.actions)
            let loss = reinforceLoss(
                logProbabilities: evaluation.logProbabilities.data.map(Double.init), returns: returns,
                values: evaluation.values.data.map(Double.init), valueCoefficient: config.valueCoefficient)
            let metrics = try gradientStep.step(loss: loss, evaluation: evaluation, update: update)
            let isLast = steps >= config.totalSteps || budget.isSpent
            try progress.report(
                update: update, steps: steps, isLast: isLast, finishedReturns: finished,
                metrics: metrics, policy: policy, events: events
            ) { [self] in try resumeState(update: update, environmentSteps: steps, recentReturns: $0) }
            if isLast { break }
        }
        return try ControlEvaluator.finish(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, seed: config.seed,
            step: update, environmentSteps: steps, start: start, events: events)
    }
}
