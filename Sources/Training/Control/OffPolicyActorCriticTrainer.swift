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
public struct OffPolicyActorCriticConfig: Codable, Sendable, Equatable {
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
    /// Updates between refreshes of the behaviour policy μ from π.
    public var behaviourRefresh = 4
    /// ρ̄: truncation of the importance weights π/μ.
    public var importanceTruncation = 1.0

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
        try require(behaviourRefresh >= 1 && importanceTruncation > 0, "--behaviour-refresh must be ≥ 1 and ρ̄ > 0")
        try require(evaluationEpisodes >= 0, "--eval-episodes must be 0 or more")
    }
}

/// Off-policy actor-critic on classic control; `train` reads top to bottom.
public final class OffPolicyActorCriticTrainer {
    public let config: OffPolicyActorCriticConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let optimizer: AdamW

    public init(config: OffPolicyActorCriticConfig) throws {
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
        var behaviour = policy
        while steps < config.totalSteps {
            if shouldStop() { throw TrainingError.interrupted(step: update) }
            update += 1
            // μ ← a frozen copy of π every `behaviourRefresh` updates (its initial weights are overwritten).
            if (update - 1) % config.behaviourRefresh == 0 {
                var copyGenerator = SeededGenerator(seed: 0)
                behaviour = MLPActorCritic(config: policy.config, generator: &copyGenerator)
                try behaviour.load(policy.stateDictionary())
            }
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
            recent = Array((recent + finished).suffix(20))

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
