import Autograd
import Environments
import NN
import Objectives
import Policies
import Randomness

// REINFORCE (Williams 1992; Sutton & Barto 2018 §13.3), optionally with a learned baseline (§13.4):
// whole episodes → Monte-Carlo returns G_t → one gradient step on −mean((G_t − b(s_t))·log π(a_t|s_t)).
// As in CleanRL and SB3 the γᵗ factor of the theorem's gradient is dropped (every step weighs the same).

/// REINFORCE's hyperparameters.
public struct ReinforceConfig: ControlTrainingConfig, Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run (every step of every collected episode counts).
    public var totalSteps = 200_000
    /// Episodes per update, one per parallel environment.
    public var environments = 8
    /// Subtract a learned baseline b(s) = V(s) (REINFORCE with baseline, S&B §13.4).
    public var baseline = true
    /// α: Adam step size (constant).
    public var learningRate = 1e-3
    /// γ: discount of the returns G_t.
    public var gamma = 0.99
    /// c₁: weight of the baseline's squared error ½(G − V)².
    public var valueCoefficient = 0.5
    /// c₂: entropy bonus.
    public var entropyCoefficient = 0.0
    /// Global gradient-norm clip.
    public var maxGradientNorm = 0.5
    /// Hidden layer sizes of actor and critic.
    public var hiddenSizes = [64, 64]
    /// Greedy evaluation episodes at the end.
    public var evaluationEpisodes = 20
    /// Logged steps between greedy evaluations during training (0: only at the end).
    public var evaluationInterval = 0
    /// Step weighting of the policy term: `.unweighted` (the default, as CleanRL and SB3: Σ_t (G_t − b) ∇ln π,
    /// biased for ∇J when γ < 1) or `.theorem` (γ^t (G_t − b) ∇ln π, the theorem's unbiased estimator;
    /// `policylab verify policy-gradient` measures the difference).
    public var discountWeighting = DiscountWeighting.unweighted

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try require(totalSteps > 0 && environments > 0, "--total-steps and --num-envs must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try validateEvaluationSettings()
    }
}

/// REINFORCE on classic control; `train` reads top to bottom.
public final class ReinforceTrainer: ResumableBatchControlTrainer {
    public let config: ReinforceConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW
    /// Every update starts from reset environments: there is no collector state to carry over.
    var rolloutCollector: ControlRolloutCollector? { nil }
    /// Where a resumed run continues (nil: from the start).
    var resumed: BatchControlProgress?

    public init(config: ReinforceConfig) throws {
        try config.validate()
        self.config = config
        let start = try ControlTrainerStart(
            environmentID: config.environmentID, seed: config.seed, environments: config.environments,
            hiddenSizes: config.hiddenSizes, learningRate: config.learningRate)
        generator = start.generator
        environments = start.environments
        policy = start.policy
        optimizer = start.optimizer
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, Adam, the generator, the environments' reset generators and the counters.
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
        while steps < config.totalSteps {
            if shouldStop() { throw TrainingError.interrupted(step: update) }
            update += 1
            let batch = try collectEpisodes()
            steps += batch.steps
            let metrics = try updatePolicy(batch, step: update)
            let isLast = steps >= config.totalSteps || budget.isSpent
            try progress.report(
                update: update, steps: steps, isLast: isLast, finishedReturns: batch.episodeReturns,
                metrics: metrics, policy: policy, events: events
            ) { [self] in try resumeState(update: update, environmentSteps: steps, recentReturns: $0) }
            if isLast { break }
        }
        return try ControlEvaluator.finish(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, seed: config.seed,
            step: update, environmentSteps: steps, start: start, events: events)
    }

    /// The first whole episode of every environment, flattened, with the return G_t of every step.
    struct EpisodeBatch {
        var observations: [Float] = []
        var actions: [Float] = []
        var returns: [Double] = []
        /// Whether each step ends its episode (for the γ^t step weights).
        var episodeEnds: [Bool] = []
        /// Undiscounted return of each episode.
        var episodeReturns: [Double] = []
        /// Environment steps taken, including those of environments that had already finished.
        var steps = 0
    }

    /// Runs every environment until each has finished one episode (the vector steps all of them, so
    /// early finishers' further steps are taken but not learned from).
    private func collectEpisodes() throws -> EpisodeBatch {
        let n = config.environments, d = environments.observationSize
        var observation = environments.reset()
        var trajectories = [(observations: [Float], actions: [Float], rewards: [Double])](
            repeating: ([], [], []), count: n)
        var done = [Bool](repeating: false, count: n)
        var batch = EpisodeBatch()
        while done.contains(false) {
            let decision = policy.act(observations: observation, count: n, generator: &generator)
            let stored = policy.storedActions(decision)
            let width = stored.count / n
            let result = try environments.step(policy.environmentActions(decision, count: n))
            batch.steps += n
            for e in 0..<n where !done[e] {
                trajectories[e].observations += observation[(e * d)..<((e + 1) * d)]
                trajectories[e].actions += stored[(e * width)..<((e + 1) * width)]
                trajectories[e].rewards.append(result.rewards[e])
                if result.terminated[e] || result.truncated[e] { done[e] = true }
            }
            observation = result.observations
        }
        _ = environments.drainCompletedEpisodes()
        for trajectory in trajectories {
            batch.observations += trajectory.observations
            batch.actions += trajectory.actions
            var ends = [Bool](repeating: false, count: trajectory.rewards.count)
            ends[ends.count - 1] = true
            batch.returns += discountedReturns(rewards: trajectory.rewards, episodeEnds: ends, gamma: config.gamma)
            batch.episodeEnds += ends
            batch.episodeReturns.append(trajectory.rewards.reduce(0, +))
        }
        return batch
    }

    /// One Adam step on Objectives' `reinforceLoss` (with the critic as baseline when `baseline`) minus
    /// c₂ times the mean entropy.
    private func updatePolicy(_ batch: EpisodeBatch, step: Int) throws -> [String: Double] {
        let count = batch.returns.count
        let evaluation = policy.evaluate(
            observations: Tensor(shape: [count, environments.observationSize], data: batch.observations),
            actions: batch.actions)
        let loss = reinforceLoss(
            logProbabilities: evaluation.logProbabilities.data.map(Double.init), returns: batch.returns,
            values: config.baseline ? evaluation.values.data.map(Double.init) : nil,
            valueCoefficient: config.valueCoefficient,
            stepWeights: config.discountWeighting.stepWeights(episodeEnds: batch.episodeEnds, gamma: config.gamma))
        let gradientStep = ControlUpdate(
            policy: policy, optimizer: optimizer, entropyCoefficient: config.entropyCoefficient,
            maxGradientNorm: config.maxGradientNorm)
        return try gradientStep.step(loss: loss, evaluation: evaluation, update: step)
    }
}
