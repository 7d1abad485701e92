import Autograd
import Environments
import Foundation
import NN
import Objectives
import Policies
import Randomness

/// REINFORCE (Williams 1992), optionally with a learned baseline, and advantage actor-critic
/// (Mnih et al. 2016; n-step returns, one-step actor-critic with n = 1) — the ancestors of PPO,
/// on the same policy, environments and event sink.
public struct PolicyGradientConfig: Codable, Sendable, Equatable {
    public enum Algorithm: String, Codable, Sendable {
        /// Monte-Carlo returns of whole episodes; `baseline` subtracts a learned V(s).
        case reinforce
        /// n-step bootstrapped returns from parallel environments.
        case actorCritic = "a2c"
        /// Actor-critic(λ) with accumulating eligibility traces, online, one environment (S&B §13.5).
        case actorCriticLambda = "ac-lambda"
        /// Off-policy actor-critic: rollouts from a stored behaviour policy μ (refreshed every
        /// `behaviourRefresh` updates), the actor weighted by truncated importance weights min(π/μ, ρ̄).
        case offPolicy = "off-policy"
    }

    public var algorithm: Algorithm
    public var environmentID: String
    public var seed: UInt64 = 1
    public var totalSteps = 200_000
    /// REINFORCE: episodes per update (one per parallel environment). A2C: parallel environments.
    public var environments = 8
    /// A2C: steps per environment per update (n of the n-step return; 1 = one-step actor-critic).
    public var rolloutSteps = 16
    /// REINFORCE: subtract a learned baseline V(s) (REINFORCE with baseline, S&B §13.4).
    public var baseline = true
    public var learningRate = 1e-3
    /// γ: discount.
    public var gamma = 0.99
    /// c₁: value-loss weight; c₂: entropy bonus.
    public var valueCoefficient = 0.5
    public var entropyCoefficient = 0.0
    public var maxGradientNorm = 0.5
    public var hiddenSizes = [64, 64]
    public var evaluationEpisodes = 20
    /// Actor-critic(λ): trace decay λ for actor and critic, and SGD step sizes α_θ, α_w.
    public var traceLambda = 0.9
    public var actorStepSize = 1e-3
    public var criticStepSize = 1e-3
    /// Off-policy: updates between refreshes of the behaviour policy μ, and the weight truncation ρ̄.
    public var behaviourRefresh = 4
    public var importanceTruncation = 1.0

    public init(algorithm: Algorithm, environmentID: String) {
        self.algorithm = algorithm
        self.environmentID = environmentID
        switch algorithm {
        case .actorCritic, .offPolicy:
            totalSteps = 300_000
            environments = 16
            rolloutSteps = 8
            learningRate = 1e-3
            entropyCoefficient = 0.01
        case .actorCriticLambda:
            totalSteps = 100_000
            environments = 1
        case .reinforce:
            break
        }
    }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidConfiguration(message) } }
        try require(totalSteps > 0 && environments > 0 && rolloutSteps > 0, "--total-steps, --num-envs and --num-steps must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
        try require(valueCoefficient >= 0 && entropyCoefficient >= 0, "coefficients must be ≥ 0")
        try require((0...1).contains(traceLambda), "λ must lie in [0, 1]")
        try require(actorStepSize > 0 && criticStepSize > 0, "step sizes must be > 0")
        try require(behaviourRefresh >= 1 && importanceTruncation > 0, "--behaviour-refresh must be ≥ 1 and ρ̄ > 0")
    }
}

public final class PolicyGradientTrainer {
    public let config: PolicyGradientConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    var environments: VectorEnvironment
    let optimizer: AdamW

    public init(config: PolicyGradientConfig) throws {
        try config.validate()
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        var environmentGenerator = generator.split()
        environments = try VectorEnvironment(id: config.environmentID, count: config.environments, generator: &environmentGenerator)
        policy = try ControlAgent.makePolicy(environmentID: config.environmentID, hiddenSizes: config.hiddenSizes, generator: &generator)
        optimizer = AdamW(parameters: policy.parameters, config: .init(learningRate: Float(config.learningRate), epsilon: 1e-5), decayMask: policy.parameters.map { _ in false })
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> ControlTrainingResult {
        if config.algorithm == .actorCriticLambda { return try trainWithTraces(events: events, shouldStop: shouldStop) }
        let start = Date()
        var steps = 0, update = 0
        var recent: [Double] = []
        var observation = environments.reset()
        while steps < config.totalSteps {
            if shouldStop() { throw TrainingError.interrupted(step: update) }
            update += 1
            let batch: (observations: [Float], actions: [Float], returns: [Double], count: Int, finished: [Double], steps: Int)
            switch config.algorithm {
            case .reinforce: batch = try collectEpisodes()
            case .actorCritic, .actorCriticLambda: batch = try collectRollout(observation: &observation)
            case .offPolicy:
                if behaviour == nil || (update - 1) % config.behaviourRefresh == 0 {
                    var copyGenerator = SeededGenerator(seed: 0)
                    let copy = MLPActorCritic(config: policy.config, generator: &copyGenerator)
                    try copy.load(policy.stateDictionary())
                    behaviour = copy
                }
                batch = try collectRollout(observation: &observation, actingPolicy: behaviour!)
            }
            steps += batch.steps
            recent = Array((recent + batch.finished).suffix(20))
            let metrics = try updatePolicy(batch.observations, batch.actions, batch.returns, count: batch.count, step: update)
            var values = metrics
            values["charts/SPS"] = Double(steps) / max(secondsSince(start), 1e-9)
            if !batch.finished.isEmpty { values["charts/episodic_return"] = batch.finished.reduce(0, +) / Double(batch.finished.count) }
            try events(.metrics(step: update, samplesSeen: steps, values: values))
            if update % 25 == 0 || steps >= config.totalSteps {
                let meanReturn = recent.isEmpty ? Double.nan : recent.reduce(0, +) / Double(recent.count)
                try events(.progress(String(format: "update %d  steps %d  SPS %.0f  mean return (last 20 episodes) %.1f", update, steps, values["charts/SPS"]!, meanReturn)))
                let checkpoint = ControlAgent.checkpoint(policy: policy, normalizer: nil)
                try events(.checkpoint(step: update, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: nil))
            }
        }
        let trainingSeconds = secondsSince(start)
        let evaluation = try ControlAgent.evaluate(policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, normalizer: nil, seed: config.seed)
        try events(.metrics(step: update, samplesSeen: steps, values: ["eval/return_mean": evaluation.mean, "eval/return_std": evaluation.standardDeviation]))
        return ControlTrainingResult(evaluationReturnMean: evaluation.mean, evaluationReturnStandardDeviation: evaluation.standardDeviation,
                                     environmentSteps: steps, wallSeconds: secondsSince(start), stepsPerSecond: Double(steps) / max(trainingSeconds, 1e-9))
    }

    /// One whole episode per environment (the first one each finishes); returns G_t per step.
    private func collectEpisodes() throws -> ([Float], [Float], [Double], Int, [Double], Int) {
        let n = config.environments, d = environments.observationSize
        var observation = environments.reset()
        var trajectories = [(observations: [Float], actions: [Float], rewards: [Double])](repeating: ([], [], []), count: n)
        var done = [Bool](repeating: false, count: n)
        var steps = 0
        while done.contains(false) {
            let decision = policy.act(observations: observation, count: n, generator: &generator)
            let stored = ControlAgent.storedActions(decision, policy: policy)
            let width = stored.count / n
            let result = try environments.step(ControlAgent.actions(decision, policy: policy, count: n))
            steps += n
            for e in 0..<n where !done[e] {
                trajectories[e].observations += observation[(e * d)..<((e + 1) * d)]
                trajectories[e].actions += stored[(e * width)..<((e + 1) * width)]
                trajectories[e].rewards.append(result.rewards[e])
                if result.terminated[e] || result.truncated[e] { done[e] = true }
            }
            observation = result.observations
        }
        _ = environments.drainCompletedEpisodes()
        var observations: [Float] = [], actions: [Float] = [], returns: [Double] = [], finished: [Double] = []
        for trajectory in trajectories {
            observations += trajectory.observations
            actions += trajectory.actions
            var ends = [Bool](repeating: false, count: trajectory.rewards.count)
            ends[ends.count - 1] = true
            returns += discountedReturns(rewards: trajectory.rewards, episodeEnds: ends, gamma: config.gamma)
            finished.append(trajectory.rewards.reduce(0, +))
        }
        return (observations, actions, returns, returns.count, finished, steps)
    }

    /// The stored behaviour policy μ of the off-policy variant, and μ's log-probs of the last rollout.
    var behaviour: MLPActorCritic?
    var behaviourLogProbabilities: [Double] = []

    /// n steps from every environment with n-step bootstrapped returns (GAE with λ = 1); `actingPolicy`
    /// (default: the policy being trained) chooses the actions.
    private func collectRollout(observation: inout [Float], actingPolicy: MLPActorCritic? = nil) throws -> ([Float], [Float], [Double], Int, [Double], Int) {
        let acting = actingPolicy ?? policy
        behaviourLogProbabilities = []
        let n = config.environments, steps = config.rolloutSteps
        var observations: [Float] = [], actions: [Float] = []
        var rewards: [Double] = [], dones: [Double] = [], values: [Double] = [], bootstrap: [Double] = []
        var nextDone = [Double](repeating: 0, count: n)
        for _ in 0..<steps {
            observations += observation
            dones += nextDone
            let decision = acting.act(observations: observation, count: n, generator: &generator)
            actions += ControlAgent.storedActions(decision, policy: policy)
            behaviourLogProbabilities += decision.logProbabilities.map(Double.init)
            values += policy.values(observations: observation, count: n).map(Double.init)
            let result = try environments.step(ControlAgent.actions(decision, policy: policy, count: n))
            rewards += result.rewards
            var stepBootstrap = [Double](repeating: 0, count: n)
            for e in 0..<n {
                nextDone[e] = result.terminated[e] || result.truncated[e] ? 1 : 0
                if result.truncated[e] && !result.terminated[e], let final = result.finalObservations[e] {
                    stepBootstrap[e] = Double(policy.values(observations: final, count: 1)[0])
                }
            }
            bootstrap += stepBootstrap
            observation = result.observations
        }
        let nextValue = policy.values(observations: observation, count: n).map(Double.init)
        let (_, returns) = generalizedAdvantages(rewards: rewards, values: values, dones: dones, nextValue: nextValue, nextDone: nextDone,
                                                 environments: n, gamma: config.gamma, lambda: 1, truncationBootstrap: bootstrap)
        let finished = environments.drainCompletedEpisodes().map(\.totalReward)
        return (observations, actions, returns, n * steps, finished, n * steps)
    }

    private func updatePolicy(_ observations: [Float], _ actions: [Float], _ returns: [Double], count: Int, step: Int) throws -> [String: Double] {
        let evaluation = policy.evaluate(observations: Tensor(shape: [count, environments.observationSize], data: observations), actions: actions)
        let usesCritic = config.algorithm != .reinforce || config.baseline
        var loss = reinforceLoss(logProbabilities: evaluation.logProbabilities.data.map(Double.init), returns: returns,
                                 values: usesCritic ? evaluation.values.data.map(Double.init) : nil, valueCoefficient: config.valueCoefficient)
        if config.algorithm == .offPolicy {
            // The actor term becomes −mean(min(π/μ, ρ̄)·A·log π); the critic term stays.
            let advantages = zip(returns, evaluation.values.data).map { $0 - Double($1) }
            let weighted = importanceWeightedPolicyGradientLoss(
                logProbabilities: evaluation.logProbabilities.data.map(Double.init), behaviourLogProbabilities: behaviourLogProbabilities,
                advantages: advantages, truncation: config.importanceTruncation)
            loss.loss += weighted.loss - (loss.statistics["losses/policy_loss"] ?? 0)
            loss.logProbabilityGradient = weighted.logProbabilityGradient
            loss.statistics["losses/policy_loss"] = weighted.loss
            for (k, v) in weighted.statistics.values { loss.statistics[k] = v }
        }
        let entropy = evaluation.entropy.data.map(Double.init)
        let total = loss.loss - config.entropyCoefficient * mean(entropy)
        guard total.isFinite else { throw TrainingError.diverged(step: step, quantity: "the policy-gradient loss") }
        policy.zeroGradients()
        ControlAgent.surrogate([
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
