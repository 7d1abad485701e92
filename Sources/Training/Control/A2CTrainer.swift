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
public struct A2CConfig: Codable, Sendable, Equatable {
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

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(
            totalSteps > 0 && environments > 0 && rolloutSteps > 0,
            "--total-steps, --num-envs and --num-steps must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try require(evaluationEpisodes >= 0, "--eval-episodes must be 0 or more")
    }
}

/// A2C on classic control; `train` reads top to bottom.
public final class A2CTrainer {
    public let config: A2CConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW

    public init(config: A2CConfig) throws {
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
        let rollouts = ControlRolloutCollector(environments: environments)
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
            recent = Array((recent + finished).suffix(20))

            // One gradient step on the actor-critic loss.
            let evaluation = policy.evaluate(
                observations: Tensor(shape: [returns.count, environments.observationSize], data: rollout.observations),
                actions: rollout.actions)
            let loss = reinforceLoss(
                logProbabilities: evaluation.logProbabilities.data.map(Double.init), returns: returns,
                values: evaluation.values.data.map(Double.init), valueCoefficient: config.valueCoefficient)
            let entropy = evaluation.entropy.data.map(Double.init)
            let total = loss.loss - config.entropyCoefficient * mean(entropy)
            guard total.isFinite else {
                throw TrainingError.diverged(step: update, quantity: "the policy-gradient loss")
            }
            policy.zeroGradients()
            PolicyGradientTerms.surrogate([
                (evaluation.logProbabilities, loss.logProbabilityGradient), (evaluation.values, loss.valueGradient),
                (evaluation.entropy, entropy.map { _ in -config.entropyCoefficient / Double(returns.count) }),
            ]).backward()
            clipGradientNorm(policy.parameters, maximumNorm: Float(config.maxGradientNorm))
            optimizer.step()

            var metrics = loss.statistics.values
            metrics["losses/entropy"] = mean(entropy)
            metrics["charts/SPS"] = Double(steps) / max(secondsSince(start), 1e-9)
            if !finished.isEmpty { metrics["charts/episodic_return"] = finished.reduce(0, +) / Double(finished.count) }
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
}
