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
public struct ReinforceConfig: Codable, Sendable, Equatable {
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
    /// Step weighting of the policy term: `.unweighted` (the default, as CleanRL and SB3: Σ_t (G_t − b) ∇ln π,
    /// biased for ∇J when γ < 1) or `.theorem` (γ^t (G_t − b) ∇ln π, the theorem's unbiased estimator;
    /// `policylab verify policy-gradient` measures the difference).
    public var discountWeighting = DiscountWeighting.unweighted

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(totalSteps > 0 && environments > 0, "--total-steps and --num-envs must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try require(evaluationEpisodes >= 0, "--eval-episodes must be 0 or more")
    }
}

/// REINFORCE on classic control; `train` reads top to bottom.
public final class ReinforceTrainer {
    public let config: ReinforceConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW

    public init(config: ReinforceConfig) throws {
        try config.validate()
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        var environmentGenerator = generator.split()
        environments = try VectorEnvironment(
            id: config.environmentID, count: config.environments, generator: &environmentGenerator)
        policy = try MLPActorCritic.make(
            environmentID: config.environmentID, hiddenSizes: config.hiddenSizes, generator: &generator)
        optimizer = AdamW(
            parameters: policy.parameters, config: .init(learningRate: Float(config.learningRate), epsilon: 1e-5),
            decayMask: policy.parameters.map { _ in false })
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> ControlTrainingResult {
        let start = ContinuousClock.now
        var steps = 0, update = 0
        var recent: [Double] = []
        // Every update resets the environments itself; this first reset only keeps the environments'
        // draws where the seeded figures were recorded (the trainer once shared A2C's start).
        _ = environments.reset()
        while steps < config.totalSteps {
            if shouldStop() { throw TrainingError.interrupted(step: update) }
            update += 1
            let batch = try collectEpisodes()
            steps += batch.steps
            recent = Array((recent + batch.episodeReturns).suffix(20))
            var metrics = try updatePolicy(batch, step: update)
            metrics["charts/SPS"] = Double(steps) / max(secondsSince(start), 1e-9)
            if !batch.episodeReturns.isEmpty {
                metrics["charts/episodic_return"] =
                    batch.episodeReturns.reduce(0, +) / Double(batch.episodeReturns.count)
            }
            try events(.metrics(step: update, samplesSeen: steps, values: metrics))
            let isLast = steps >= config.totalSteps || budget.isSpent
            if update % 25 == 0 || isLast {
                let meanReturn = recent.isEmpty ? Double.nan : recent.reduce(0, +) / Double(recent.count)
                try events(
                    .progress(
                        String(
                            format: "update %d  steps %d  SPS %.0f  mean return (last 20 episodes) %.1f",
                            update, steps, metrics["charts/SPS"] ?? 0, meanReturn)))
                let checkpoint = policy.checkpoint(normalizer: nil)
                try events(
                    .checkpoint(
                        step: update, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: nil))
            }
            if isLast { break }
        }
        let trainingSeconds = secondsSince(start)
        let evaluation = try ControlEvaluator.greedyReturns(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes,
            normalizer: nil, seed: config.seed)
        try events(
            .metrics(
                step: update, samplesSeen: steps,
                values: [
                    "eval/return_mean": evaluation.mean, "eval/return_std": evaluation.standardDeviation,
                ]))
        return ControlTrainingResult(
            evaluationReturnMean: evaluation.mean, evaluationReturnStandardDeviation: evaluation.standardDeviation,
            environmentSteps: steps, wallSeconds: secondsSince(start),
            stepsPerSecond: Double(steps) / max(trainingSeconds, 1e-9))
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
        let entropy = evaluation.entropy.data.map(Double.init)
        let total = loss.loss - config.entropyCoefficient * mean(entropy)
        guard total.isFinite else { throw TrainingError.diverged(step: step, quantity: "the policy-gradient loss") }
        policy.zeroGradients()
        PolicyGradientTerms.surrogate([
            (evaluation.logProbabilities, loss.logProbabilityGradient), (evaluation.values, loss.valueGradient),
            (evaluation.entropy, entropy.map { _ in -config.entropyCoefficient / Double(count) }),
        ]).backward()
        clipGradientNorm(policy.parameters, maximumNorm: Float(config.maxGradientNorm))
        optimizer.step()
        var metrics = loss.statistics.values
        metrics["losses/entropy"] = mean(entropy)
        return metrics
    }
}
