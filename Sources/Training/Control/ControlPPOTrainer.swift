import Autograd
import Environments
import NN
import Objectives
import Policies
import Randomness

// PPO on a vector of classic-control environments (Schulman et al. 2017), CleanRL's `ppo.py` and
// `ppo_continuous_action.py` loop: rollout → GAE(λ) → K epochs of shuffled minibatches with the clipped
// objective → greedy evaluation. Settings per environment from RL Zoo where it has them.

/// PPO's hyperparameters, each with its CleanRL name and paper symbol. `defaults(for:)` gives tuned
/// per-environment settings.
public struct ControlPPOConfig: ControlTrainingConfig, Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run (`total_timesteps`).
    public var totalSteps: Int = 100_000
    /// E: parallel environments (`num_envs`).
    public var environments: Int = 8
    /// S: steps per environment per rollout (`num_steps`); the batch is E × S.
    public var rolloutSteps: Int = 32
    /// α: Adam step size (`learning_rate`), annealed linearly to 0 when `annealLearningRate` (`anneal_lr`).
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
    /// On truncation, bootstrap with the final observation's value (SB3) instead of treating it as
    /// termination (CleanRL).
    public var bootstrapOnTruncation = true
    /// Gymnasium's NormalizeObservation / NormalizeReward with CleanRL's ±10 clips.
    public var normalizeObservations = false
    public var normalizeRewards = false
    /// Greedy evaluation episodes at the end.
    public var evaluationEpisodes: Int = 20
    /// Logged steps between greedy evaluations during training (0: only at the end).
    public var evaluationInterval = 0

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
            c.environments = 16; c.rolloutSteps = 256; c.gaeLambda = 0.94; c.gamma = 0.99; c.epochs = 4
            c.minibatches = 64; c.learningRate = 3e-4; c.normalizeObservations = true
        case "MountainCar-v0":
            // RL Zoo: 16 envs, n_steps 16, λ 0.98, γ 0.99, 4 epochs, ent 0, obs normalisation, 1M steps.
            c.totalSteps = 1_000_000
            c.environments = 16; c.rolloutSteps = 16; c.gaeLambda = 0.98; c.gamma = 0.99; c.epochs = 4
            c.minibatches = 1; c.learningRate = 3e-4; c.normalizeObservations = true
        case "MountainCarContinuous-v0":
            c.totalSteps = 300_000
            c.environments = 4; c.rolloutSteps = 512; c.gaeLambda = 0.9; c.gamma = 0.9999; c.epochs = 10
            c.minibatches = 32; c.learningRate = 7.77e-5; c.normalizeObservations = true; c.normalizeRewards = true
            c.objective = PPOConfig(clipCoefficient: 0.1, entropyCoefficient: 0.00429, valueCoefficient: 0.19)
            c.maxGradientNorm = 5
        case "Pendulum-v1":
            // RL Zoo: 4 envs, n_steps 1024, λ 0.95, γ 0.9, 10 epochs, lr 1e-3, batch 64, clip 0.2.
            c.totalSteps = 200_000
            c.environments = 4; c.rolloutSteps = 1024; c.gaeLambda = 0.95; c.gamma = 0.9; c.epochs = 10
            c.minibatches = 64; c.learningRate = 1e-3; c.normalizeObservations = true; c.normalizeRewards = true
        default:
            c.environments = 4; c.rolloutSteps = 128; c.gamma = 0.99; c.gaeLambda = 0.95; c.epochs = 4
            c.minibatches = 4; c.learningRate = 2.5e-4; c.objective = PPOConfig()
        }
        return c
    }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try objective.validate()
        try require(totalSteps > 0, "--total-steps must be positive")
        try require(environments > 0 && rolloutSteps > 0, "--num-envs and --num-steps must be positive")
        try require(
            minibatches > 0 && batchSize % minibatches == 0,
            "the batch of \(batchSize) steps (num-envs × num-steps) is not divisible into \(minibatches) "
                + "minibatches — choose a divisor")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma) && (0...1).contains(gaeLambda), "γ and λ must lie in [0, 1]")
        try require(epochs > 0, "--update-epochs must be positive")
        try require(maxGradientNorm > 0, "--max-grad-norm must be positive")
        try validateEvaluationSettings()
        try require(
            totalSteps >= batchSize,
            "--total-steps \(totalSteps) is smaller than one batch of \(batchSize) steps — raise it or shrink the batch"
        )
    }
}

/// PPO on classic control; `train` reads top to bottom as CleanRL's loop.
public final class ControlPPOTrainer: ResumableBatchControlTrainer {
    public let config: ControlPPOConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let rollouts: ControlRolloutCollector
    let optimizer: AdamW
    /// Where a resumed run continues (nil: from the start).
    var resumed: BatchControlProgress?
    var environments: VectorEnvironment { rollouts.environments }
    var rolloutCollector: ControlRolloutCollector? { rollouts }

    public init(config: ControlPPOConfig) throws {
        try config.validate()
        self.config = config
        let start = try ControlTrainerStart(
            environmentID: config.environmentID, seed: config.seed, environments: config.environments,
            hiddenSizes: config.hiddenSizes, learningRate: config.learningRate, adamEpsilon: Float(config.adamEpsilon))
        generator = start.generator
        policy = start.policy
        optimizer = start.optimizer
        let environments = start.environments
        rollouts = ControlRolloutCollector(
            environments: environments,
            observationNormalizer: config.normalizeObservations
                ? ObservationNormalizer(dimension: environments.observationSize) : nil,
            rewardNormalizer: config.normalizeRewards
                ? RewardNormalizer(environments: config.environments, gamma: config.gamma) : nil)
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, Adam's t and moments, the generator, the environments mid-episode, the normalisers and the
    /// counters, so that `train` goes on with the update after the checkpoint's exactly as the uninterrupted
    /// run did. Call it on a trainer just made from the run's config.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try restoreCheckpoint(weights: weights, state: state)
    }

    /// Trains for `config.totalSteps` environment steps, reporting through `events`;
    /// `shouldStop` is polled between updates (Ctrl-C).
    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> ControlTrainingResult {
        let schedule: LearningRateSchedule = config.annealLearningRate ? .linear(totalSteps: config.updates) : .constant
        let start = ContinuousClock.now
        var globalStep = resumed?.environmentSteps ?? 0
        var progress = ControlProgress(
            start: start, interval: max(1, config.updates / 10), updates: config.updates,
            recentReturns: resumed?.recentReturns ?? [],
            evaluation: ControlPeriodicEvaluation(config: config, environmentID: config.environmentID))
        var lastUpdate = resumed?.update ?? 0

        for update in stride(from: lastUpdate + 1, through: config.updates, by: 1) {
            if shouldStop() { throw TrainingError.interrupted(step: update - 1) }
            optimizer.learningRate = schedule.rate(base: config.learningRate, step: update - 1)

            // Rollout of E × S steps, then advantages Â by GAE(λ) and returns R = Â + V.
            let rollout = try rollouts.collect(
                steps: config.rolloutSteps, policy: policy, acting: policy,
                truncationValues: config.bootstrapOnTruncation ? .batched : .none, generator: &generator)
            globalStep += config.batchSize
            let finishedReturns = rollout.finishedEpisodes.map(\.totalReward)
            let (advantages, returns) = generalizedAdvantages(
                rewards: rollout.rewards, values: rollout.values, dones: rollout.dones, nextValue: rollout.nextValues,
                nextDone: rollout.nextDone, environments: config.environments, gamma: config.gamma,
                lambda: config.gaeLambda,
                truncationBootstrap: config.bootstrapOnTruncation ? rollout.truncationBootstrap : nil)

            // Update: K epochs of shuffled minibatches, stopping early past the target KL.
            var last: PPOMinibatchLoss?
            var clipFractions: [Double] = []
            epochs: for _ in 0..<config.epochs {
                let order = generator.permutation(config.batchSize)
                for startIndex in stride(from: 0, to: config.batchSize, by: config.minibatchSize) {
                    let indices = Array(order[startIndex..<(startIndex + config.minibatchSize)])
                    let loss = try minibatchUpdate(
                        indices: indices, rollout: rollout, advantages: advantages, returns: returns, step: update)
                    clipFractions.append(loss.clipFraction)
                    last = loss
                }
                if let target = config.targetKL, let last, last.approximateKL > target { break epochs }
            }

            var metrics = last?.statistics.values ?? [:]
            metrics["losses/clipfrac"] =
                clipFractions.isEmpty ? 0 : clipFractions.reduce(0, +) / Double(clipFractions.count)
            metrics["losses/explained_variance"] = explainedVariance(returns: returns, values: rollout.values)
            metrics["charts/learning_rate"] = Double(optimizer.learningRate)
            if !finishedReturns.isEmpty {
                let lengths = rollout.finishedEpisodes.map { Double($0.length) }
                metrics["charts/episodic_length"] = lengths.reduce(0, +) / Double(lengths.count)
            }
            lastUpdate = update
            let isLast = update == config.updates || budget.isSpent
            try progress.report(
                update: update, steps: globalStep, isLast: isLast, finishedReturns: finishedReturns,
                metrics: metrics, policy: policy, normalizer: rollouts.observationNormalizer, events: events
            ) { [self] in try resumeState(update: update, environmentSteps: globalStep, recentReturns: $0) }
            if isLast { break }
        }

        return try ControlEvaluator.finish(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes,
            normalizer: rollouts.observationNormalizer, seed: config.seed, step: lastUpdate,
            environmentSteps: globalStep, start: start, events: events)
    }

    /// One minibatch: the clipped surrogate, value and entropy terms (Objectives' `ppoLoss`) on the tape,
    /// the global gradient-norm clip, one Adam step.
    private func minibatchUpdate(
        indices: [Int], rollout: ControlRollout, advantages: [Double], returns: [Double], step: Int
    ) throws -> PPOMinibatchLoss {
        let d = rollouts.environments.observationSize
        let actionWidth = if case .gaussian(let dimension) = policy.config.head { dimension } else { 1 }
        var x = [Float](), a = [Float]()
        x.reserveCapacity(indices.count * d)
        for i in indices {
            x += rollout.observations[(i * d)..<((i + 1) * d)]
            a += rollout.actions[(i * actionWidth)..<((i + 1) * actionWidth)]
        }
        let evaluation = policy.evaluate(observations: Tensor(shape: [indices.count, d], data: x), actions: a)
        let loss = ppoLoss(
            config: config.objective, newLogProbabilities: evaluation.logProbabilities.data.map(Double.init),
            oldLogProbabilities: indices.map { rollout.logProbabilities[$0] },
            advantages: indices.map { advantages[$0] },
            returns: indices.map { returns[$0] }, oldValues: indices.map { rollout.values[$0] },
            newValues: evaluation.values.data.map(Double.init), entropies: evaluation.entropy.data.map(Double.init))
        guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the PPO loss") }
        policy.zeroGradients()
        PolicyGradientTerms.surrogate([
            (evaluation.logProbabilities, loss.logProbabilityGradient), (evaluation.values, loss.valueGradient),
            (evaluation.entropy, loss.entropyGradient),
        ]).backward()
        let norm = clipGradientNorm(policy.parameters, maximumNorm: Float(config.maxGradientNorm))
        guard norm.isFinite else { throw TrainingError.diverged(step: step, quantity: "the gradient norm") }
        optimizer.step()
        return loss
    }
}
