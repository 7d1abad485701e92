import Autograd
import Environments
import NN
import Objectives
import Policies
import Randomness

// Off-policy actor-critic (Degris et al. 2012; truncated weights as in Espeholt et al. 2018): rollouts
// from a stored behaviour policy μ, refreshed from π every few updates, n-step returns from π's critic,
// and the actor weighted by min(π/μ, ρ̄): −mean(min(π/μ, ρ̄)·A·log π) + c₁·½·mean((R − V)²) − c₂·mean(entropy).

/// Off-policy actor-critic's hyperparameters.
public struct OffPolicyActorCriticConfig: NStepActorCriticConfig, Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run.
    public var totalSteps = 300_000
    /// E: parallel environments.
    public var environments = 16
    /// n: steps per environment per update (n of the n-step return).
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
    /// Updates between refreshes of the behaviour policy μ from π.
    public var behaviourRefresh = 4
    /// ρ̄: truncation of the importance weights π/μ.
    public var importanceTruncation = 1.0

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try validateNStepSettings()
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try require(behaviourRefresh >= 1 && importanceTruncation > 0, "--behaviour-refresh must be ≥ 1 and ρ̄ > 0")
        try validateEvaluationSettings()
    }
}

/// Off-policy actor-critic on classic control; `train` reads top to bottom.
public final class OffPolicyActorCriticTrainer: ResumableBatchControlTrainer {
    public let config: OffPolicyActorCriticConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW
    let rollouts: ControlRolloutCollector
    var rolloutCollector: ControlRolloutCollector? { rollouts }
    /// μ, the behaviour policy: π itself until the first update makes it a frozen copy.
    private var behaviour: MLPActorCritic
    /// Where a resumed run continues (nil: from the start).
    var resumed: BatchControlProgress?

    public init(config: OffPolicyActorCriticConfig) throws {
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
        behaviour = policy
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, Adam, the generator, the environments mid-episode, the collector, the behaviour policy μ
    /// as it was last refreshed, and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        let progress = try restoreCheckpoint(weights: weights, state: state)
        guard let saved = progress.behaviourWeights else {
            throw ResumeStateError.unreadable("it has no behaviour policy")
        }
        let shapes = policy.stateDictionary().mapValues(\.shape)
        behaviour = try frozenCopy(of: saved.reduce(into: [:]) { $0[$1.key] = (shapes[$1.key] ?? [], $1.value) })
    }

    /// A policy of π's architecture holding `weights` (its initial weights are overwritten).
    private func frozenCopy(of weights: [String: (shape: [Int], values: [Float])]) throws -> MLPActorCritic {
        var copyGenerator = SeededGenerator(seed: 0)
        let copy = MLPActorCritic(config: policy.config, generator: &copyGenerator)
        try copy.load(weights)
        return copy
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
            // μ ← a frozen copy of π every `behaviourRefresh` updates.
            if (update - 1) % config.behaviourRefresh == 0 { behaviour = try frozenCopy(of: policy.stateDictionary()) }
            // n steps of every environment acted by μ; n-step returns from π's critic.
            let rollout = try rollouts.collect(
                steps: config.rolloutSteps, policy: policy, acting: behaviour,
                truncationValues: .oneEnvironmentAtATime, generator: &generator)
            let (_, returns) = generalizedAdvantages(
                rewards: rollout.rewards, values: rollout.values, dones: rollout.dones, nextValue: rollout.nextValues,
                nextDone: rollout.nextDone, environments: config.environments, gamma: config.gamma, lambda: 1,
                truncationBootstrap: rollout.truncationBootstrap)
            steps += config.environments * config.rolloutSteps
            let finished = rollout.finishedEpisodes.map(\.totalReward)

            // One gradient step: the critic's term of `reinforceLoss`, the actor's of the importance-weighted
            // loss with A = R − V(s).
            let evaluation = policy.evaluate(
                observations: Tensor(shape: [returns.count, environments.observationSize], data: rollout.observations),
                actions: rollout.actions)
            let logProbabilities = evaluation.logProbabilities.data.map(Double.init)
            var loss = reinforceLoss(
                logProbabilities: logProbabilities, returns: returns, values: evaluation.values.data.map(Double.init),
                valueCoefficient: config.valueCoefficient)
            let advantages = zip(returns, evaluation.values.data).map { $0 - Double($1) }
            let weighted = importanceWeightedPolicyGradientLoss(
                logProbabilities: logProbabilities, behaviourLogProbabilities: rollout.logProbabilities,
                advantages: advantages, truncation: config.importanceTruncation)
            loss.loss += weighted.loss - (loss.statistics["losses/policy_loss"] ?? 0)
            loss.logProbabilityGradient = weighted.logProbabilityGradient
            loss.statistics["losses/policy_loss"] = weighted.loss
            for (name, value) in weighted.statistics.values { loss.statistics[name] = value }
            let metrics = try gradientStep.step(loss: loss, evaluation: evaluation, update: update)
            let isLast = steps >= config.totalSteps || budget.isSpent
            try progress.report(
                update: update, steps: steps, isLast: isLast, finishedReturns: finished,
                metrics: metrics, policy: policy, events: events
            ) { [self] in
                try resumeState(update: update, environmentSteps: steps, recentReturns: $0, behaviour: behaviour)
            }
            if isLast { break }
        }
        return try ControlEvaluator.finish(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, seed: config.seed,
            step: update, environmentSteps: steps, start: start, events: events)
    }
}
