import Autograd
import Environments
import Foundation
import NN
import Objectives
import Policies
import Randomness

/// One-environment, online actor-critic(λ) with accumulating eligibility traces (Sutton & Barto 2018,
/// §13.5, "Actor–Critic with Eligibility Traces (episodic)"):
/// δ = R + γ·v̂(S′) − v̂(S);  z_w ← γλ·z_w + ∇v̂(S);  z_θ ← γλ·z_θ + I·∇ln π(A|S);
/// w ← w + α_w·δ·z_w;  θ ← θ + α_θ·δ·z_θ;  I ← γ·I — with traces and I reset at each episode start.
extension PolicyGradientTrainer {
    func trainWithTraces(events: TrainingEventSink, shouldStop: () -> Bool) throws -> ControlTrainingResult {
        let start = Date()
        var environment = try EnvironmentRegistry.make(config.environmentID)
        let actorParameters = policy.actor.parameters + (policy.logStandardDeviation.map { [$0] } ?? [])
        let criticParameters = policy.critic.parameters
        var actorTraces = actorParameters.map { [Double](repeating: 0, count: $0.count) }
        var criticTraces = criticParameters.map { [Double](repeating: 0, count: $0.count) }
        var observation = environment.reset(generator: &generator)
        var discount = 1.0
        var episodeReturn = 0.0
        var recent: [Double] = []
        var episodes = 0
        for step in 1...config.totalSteps {
            if step % 1000 == 0, shouldStop() { throw TrainingError.interrupted(step: step) }
            let decision = policy.act(observations: observation, count: 1, generator: &generator)
            let stored = ControlAgent.storedActions(decision, policy: policy)
            let result = try environment.step(ControlAgent.actions(decision, policy: policy, count: 1)[0])
            episodeReturn += result.reward
            // ∇ ln π(A|S) and ∇ v̂(S) on the tape.
            policy.zeroGradients()
            let evaluation = policy.evaluate(observations: Tensor(shape: [1, environment.observationSize], data: observation), actions: stored)
            evaluation.logProbabilities.sum().backward()
            evaluation.values.sum().backward()
            let value = Double(evaluation.values.data[0])
            let nextValue = result.terminated ? 0 : Double(policy.values(observations: result.observation, count: 1)[0])
            let delta = result.reward + config.gamma * nextValue - value
            guard delta.isFinite else { throw TrainingError.diverged(step: step, quantity: "the TD error") }
            for (index, parameter) in actorParameters.enumerated() {
                let gradient = parameter.grad ?? [Float](repeating: 0, count: parameter.count)
                actorTraces[index] = eligibilityTraceUpdate(trace: actorTraces[index], gradient: gradient.map { discount * Double($0) }, gamma: config.gamma, lambda: config.traceLambda)
                for i in 0..<parameter.count { parameter.data[i] += Float(config.actorStepSize * delta * actorTraces[index][i]) }
            }
            for (index, parameter) in criticParameters.enumerated() {
                let gradient = parameter.grad ?? [Float](repeating: 0, count: parameter.count)
                criticTraces[index] = eligibilityTraceUpdate(trace: criticTraces[index], gradient: gradient.map(Double.init), gamma: config.gamma, lambda: config.traceLambda)
                for i in 0..<parameter.count { parameter.data[i] += Float(config.criticStepSize * delta * criticTraces[index][i]) }
            }
            discount *= config.gamma
            observation = result.observation
            if result.terminated || result.truncated {
                episodes += 1
                recent = Array((recent + [episodeReturn]).suffix(20))
                try events(.metrics(step: episodes, samplesSeen: step, values: ["charts/episodic_return": episodeReturn, "losses/td_error": abs(delta)]))
                episodeReturn = 0
                discount = 1
                for i in actorTraces.indices { actorTraces[i] = actorTraces[i].map { _ in 0 } }
                for i in criticTraces.indices { criticTraces[i] = criticTraces[i].map { _ in 0 } }
                observation = environment.reset(generator: &generator)
                if episodes % 50 == 0 {
                    try events(.progress(String(format: "episode %d  steps %d  mean return (last 20) %.1f", episodes, step, recent.reduce(0, +) / Double(recent.count))))
                }
            }
        }
        let checkpoint = ControlAgent.checkpoint(policy: policy, normalizer: nil)
        try events(.checkpoint(step: episodes, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: nil))
        let trainingSeconds = secondsSince(start)
        let evaluation = try ControlAgent.evaluate(policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, normalizer: nil, seed: config.seed)
        try events(.metrics(step: episodes, samplesSeen: config.totalSteps, values: ["eval/return_mean": evaluation.mean, "eval/return_std": evaluation.standardDeviation]))
        return ControlTrainingResult(evaluationReturnMean: evaluation.mean, evaluationReturnStandardDeviation: evaluation.standardDeviation,
                                     environmentSteps: config.totalSteps, wallSeconds: secondsSince(start), stepsPerSecond: Double(config.totalSteps) / max(trainingSeconds, 1e-9))
    }
}
