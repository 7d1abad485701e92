import Environments
import Policies
import Randomness

/// The evaluator every control trainer ends with: the undiscounted return of greedy episodes (argmax or
/// Gaussian mean; or sampled actions with `greedy: false`, for `policylab eval`) on fresh environments, with
/// the observation normaliser frozen.
enum ControlEvaluator {
    /// The end of every control run: the greedy evaluation over `episodes` episodes, reported as
    /// `eval/return_mean` and `eval/return_std` at `step`, and the run's final figures (steps per second
    /// over the training, before the evaluation).
    static func finish(
        policy: MLPActorCritic, environmentID: String, episodes: Int, normalizer: ObservationNormalizer? = nil,
        seed: UInt64, step: Int, environmentSteps: Int, start: ContinuousClock.Instant, events: TrainingEventSink
    ) throws -> ControlTrainingResult {
        let trainingSeconds = secondsSince(start)
        let evaluation = try evaluate(
            policy: policy, environmentID: environmentID, episodes: episodes, normalizer: normalizer, seed: seed,
            step: step, samplesSeen: environmentSteps, events: events)
        return ControlTrainingResult(
            evaluationReturnMean: evaluation.mean, evaluationReturnStandardDeviation: evaluation.standardDeviation,
            environmentSteps: environmentSteps, wallSeconds: secondsSince(start),
            stepsPerSecond: Double(environmentSteps) / max(trainingSeconds, 1e-9))
    }

    /// The greedy evaluation logged as `eval/return_mean` and `eval/return_std` at `step`: the final one
    /// (`finish`) and the periodic ones (`ControlPeriodicEvaluation`).
    static func evaluate(
        policy: MLPActorCritic, environmentID: String, episodes: Int, normalizer: ObservationNormalizer?,
        seed: UInt64, step: Int, samplesSeen: Int, events: TrainingEventSink
    ) throws -> (mean: Double, standardDeviation: Double) {
        let evaluation = try greedyReturns(
            policy: policy, environmentID: environmentID, episodes: episodes, normalizer: normalizer, seed: seed)
        try events(
            .metrics(
                step: step, samplesSeen: samplesSeen,
                values: ["eval/return_mean": evaluation.mean, "eval/return_std": evaluation.standardDeviation]))
        return evaluation
    }

    /// Mean and population standard deviation of the returns of `episodes` greedy episodes; NaN for none.
    /// The episodes' resets draw from a generator of their own, so evaluating does not move the run's.
    static func greedyReturns(
        policy: MLPActorCritic, environmentID: String, episodes: Int, normalizer: ObservationNormalizer?, seed: UInt64,
        greedy: Bool = true
    ) throws -> (mean: Double, standardDeviation: Double) {
        guard episodes > 0 else { return (.nan, .nan) }
        var generator = SeededGenerator(seed: seed ^ 0xE7A1_0A7E)
        var frozen = normalizer
        frozen?.frozen = true
        var returns: [Double] = []
        for _ in 0..<episodes {
            var environment = try EnvironmentRegistry.make(environmentID)
            var observation = environment.reset(generator: &generator)
            var total = 0.0
            while true {
                let input =
                    frozen.map { normalizer in
                        var normalizer = normalizer; return normalizer(observation, rows: 1)
                    }
                    ?? observation
                let decision = policy.act(observations: input, count: 1, generator: &generator, greedy: greedy)
                let result = try environment.step(policy.environmentActions(decision, count: 1)[0])
                total += result.reward
                observation = result.observation
                if result.terminated || result.truncated { break }
            }
            returns.append(total)
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)
        return (mean, variance.squareRoot())
    }
}
