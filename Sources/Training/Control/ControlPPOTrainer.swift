import Autograd
import Environments
import Foundation
import NN
import Objectives
import Policies
import Randomness

/// PPO on a vector of classic-control environments, CleanRL's `ppo.py` loop:
/// rollout → GAE → K epochs of shuffled minibatches with the clipped objective → greedy evaluation.
public final class ControlPPOTrainer {
    public let config: ControlPPOConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    var environments: VectorEnvironment
    var observationNormalizer: ObservationNormalizer?
    var rewardNormalizer: RewardNormalizer?
    let optimizer: AdamW

    public init(config: ControlPPOConfig) throws {
        try config.validate()
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        var environmentGenerator = generator.split()
        environments = try VectorEnvironment(id: config.environmentID, count: config.environments, generator: &environmentGenerator)
        policy = try ControlAgent.makePolicy(environmentID: config.environmentID, hiddenSizes: config.hiddenSizes, generator: &generator)
        optimizer = AdamW(parameters: policy.parameters, config: .init(learningRate: Float(config.learningRate), epsilon: Float(config.adamEpsilon)), decayMask: policy.parameters.map { _ in false })
        if config.normalizeObservations { observationNormalizer = ObservationNormalizer(dimension: environments.observationSize) }
        if config.normalizeRewards { rewardNormalizer = RewardNormalizer(environments: config.environments, gamma: config.gamma) }
    }

    /// Trains for `config.totalSteps` environment steps, reporting through `events`;
    /// `shouldStop` is polled between updates (Ctrl-C).
    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> ControlTrainingResult {
        let n = config.environments, steps = config.rolloutSteps, d = environments.observationSize
        let batch = config.batchSize
        let actionWidth = policy.config.head.outputs
        let isGaussian = if case .gaussian = policy.config.head { true } else { false }
        let start = Date()
        var globalStep = 0
        var observation = normalize(environments.reset(), rows: n)
        var nextDone = [Double](repeating: 0, count: n)
        var recentReturns: [Double] = []

        for update in 1...config.updates {
            if shouldStop() { throw TrainingError.interrupted(step: update - 1) }
            if config.annealLearningRate {
                optimizer.learningRate = Float(config.learningRate * (1 - Double(update - 1) / Double(config.updates)))
            }
            // Rollout: (S, E) arrays stored step-major.
            var observations = [Float](repeating: 0, count: batch * d)
            var actions = [Float](repeating: 0, count: batch * (isGaussian ? actionWidth : 1))
            var logProbabilities = [Double](repeating: 0, count: batch)
            var rewards = [Double](repeating: 0, count: batch), dones = rewards, values = rewards
            var truncationBootstrap = [Double](repeating: 0, count: batch)
            var finishedReturns: [Double] = [], finishedLengths: [Double] = []
            for step in 0..<steps {
                globalStep += n
                observations.replaceSubrange((step * n * d)..<((step + 1) * n * d), with: observation)
                for e in 0..<n { dones[step * n + e] = nextDone[e] }
                let decision = policy.act(observations: observation, count: n, generator: &generator)
                let stored = ControlAgent.storedActions(decision, policy: policy)
                actions.replaceSubrange((step * stored.count)..<((step + 1) * stored.count), with: stored)
                for e in 0..<n {
                    values[step * n + e] = Double(decision.values[e])
                    logProbabilities[step * n + e] = Double(decision.logProbabilities[e])
                }
                let result = try environments.step(ControlAgent.actions(decision, policy: policy, count: n))
                let stepRewards = rewardNormalizer.map { normalizer in var r = normalizer; let out = r(result.rewards, terminated: (0..<n).map { result.terminated[$0] || result.truncated[$0] }); rewardNormalizer = r; return out } ?? result.rewards
                for e in 0..<n {
                    rewards[step * n + e] = stepRewards[e]
                    nextDone[e] = result.terminated[e] || result.truncated[e] ? 1 : 0
                }
                if config.bootstrapOnTruncation {
                    let truncated = (0..<n).filter { result.truncated[$0] && !result.terminated[$0] }
                    if !truncated.isEmpty {
                        var finals = [Float]()
                        for e in truncated { finals += result.finalObservations[e]! }
                        let finalValues = policy.values(observations: normalize(finals, rows: truncated.count, update: false), count: truncated.count)
                        for (j, e) in truncated.enumerated() { truncationBootstrap[step * n + e] = Double(finalValues[j]) }
                    }
                }
                for episode in environments.drainCompletedEpisodes() {
                    finishedReturns.append(episode.totalReward)
                    finishedLengths.append(Double(episode.length))
                }
                observation = normalize(result.observations, rows: n)
            }
            recentReturns = Array((recentReturns + finishedReturns).suffix(20))
            let nextValue = policy.values(observations: observation, count: n).map(Double.init)
            let (advantages, returns) = generalizedAdvantages(
                rewards: rewards, values: values, dones: dones, nextValue: nextValue, nextDone: nextDone, environments: n,
                gamma: config.gamma, lambda: config.gaeLambda, truncationBootstrap: config.bootstrapOnTruncation ? truncationBootstrap : nil)

            // Update: K epochs of shuffled minibatches.
            var last: PPOMinibatchLoss?
            var clipFractions: [Double] = []
            epochs: for _ in 0..<config.epochs {
                let order = generator.permutation(batch)
                for startIndex in stride(from: 0, to: batch, by: config.minibatchSize) {
                    let indices = Array(order[startIndex..<(startIndex + config.minibatchSize)])
                    let loss = try minibatchUpdate(indices: indices, observations: observations, actions: actions, actionWidth: isGaussian ? actionWidth : 1,
                                                   logProbabilities: logProbabilities, advantages: advantages, returns: returns, values: values, step: update)
                    clipFractions.append(loss.clipFraction)
                    last = loss
                }
                if let target = config.targetKL, let last, last.approximateKL > target { break epochs }
            }
            let seconds = secondsSince(start)
            var metrics = last?.statistics.values ?? [:]
            metrics["losses/clipfrac"] = clipFractions.isEmpty ? 0 : clipFractions.reduce(0, +) / Double(clipFractions.count)
            metrics["losses/explained_variance"] = explainedVariance(returns: returns, values: values)
            metrics["charts/learning_rate"] = Double(optimizer.learningRate)
            metrics["charts/SPS"] = Double(globalStep) / max(seconds, 1e-9)
            if !finishedReturns.isEmpty {
                metrics["charts/episodic_return"] = finishedReturns.reduce(0, +) / Double(finishedReturns.count)
                metrics["charts/episodic_length"] = finishedLengths.reduce(0, +) / Double(finishedLengths.count)
            }
            try events(.metrics(step: update, samplesSeen: globalStep, values: metrics))
            if update == config.updates || update % max(1, config.updates / 10) == 0 {
                let meanReturn = recentReturns.isEmpty ? Double.nan : recentReturns.reduce(0, +) / Double(recentReturns.count)
                try events(.progress(String(format: "update %d/%d  steps %d  SPS %.0f  mean return (last 20 episodes) %.1f", update, config.updates, globalStep, Double(globalStep) / max(seconds, 1e-9), meanReturn)))
                let checkpoint = ControlAgent.checkpoint(policy: policy, normalizer: observationNormalizer)
                try events(.checkpoint(step: update, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: nil))
            }
        }
        let trainingSeconds = secondsSince(start)
        let evaluation = try ControlAgent.evaluate(policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, normalizer: observationNormalizer, seed: config.seed)
        try events(.metrics(step: config.updates, samplesSeen: globalStep, values: ["eval/return_mean": evaluation.mean, "eval/return_std": evaluation.standardDeviation]))
        return ControlTrainingResult(
            evaluationReturnMean: evaluation.mean, evaluationReturnStandardDeviation: evaluation.standardDeviation,
            environmentSteps: globalStep, wallSeconds: secondsSince(start), stepsPerSecond: Double(globalStep) / max(trainingSeconds, 1e-9))
    }

    private func normalize(_ observations: [Float], rows: Int, update: Bool = true) -> [Float] {
        guard var normalizer = observationNormalizer else { return observations }
        if !update { normalizer.frozen = true }
        let out = normalizer(observations, rows: rows)
        if update { observationNormalizer = normalizer }
        return out
    }

    private func minibatchUpdate(
        indices: [Int], observations: [Float], actions: [Float], actionWidth: Int, logProbabilities: [Double],
        advantages: [Double], returns: [Double], values: [Double], step: Int
    ) throws -> PPOMinibatchLoss {
        let d = environments.observationSize
        var x = [Float](), a = [Float]()
        x.reserveCapacity(indices.count * d)
        for i in indices {
            x += observations[(i * d)..<((i + 1) * d)]
            a += actions[(i * actionWidth)..<((i + 1) * actionWidth)]
        }
        let evaluation = policy.evaluate(observations: Tensor(shape: [indices.count, d], data: x), actions: a)
        let loss = ppoLoss(
            config: config.objective, newLogProbabilities: evaluation.logProbabilities.data.map(Double.init),
            oldLogProbabilities: indices.map { logProbabilities[$0] }, advantages: indices.map { advantages[$0] },
            returns: indices.map { returns[$0] }, oldValues: indices.map { values[$0] },
            newValues: evaluation.values.data.map(Double.init), entropies: evaluation.entropy.data.map(Double.init))
        guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the PPO loss") }
        policy.zeroGradients()
        ControlAgent.surrogate([
            (evaluation.logProbabilities, loss.logProbabilityGradient), (evaluation.values, loss.valueGradient), (evaluation.entropy, loss.entropyGradient),
        ]).backward()
        let norm = clipGradientNorm(policy.parameters, maximumNorm: Float(config.maxGradientNorm))
        guard norm.isFinite else { throw TrainingError.diverged(step: step, quantity: "the gradient norm") }
        optimizer.step()
        return loss
    }
}
