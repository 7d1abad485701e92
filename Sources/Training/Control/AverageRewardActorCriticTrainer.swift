import Autograd
import Environments
import Objectives
import Policies
import Randomness

// Average-reward actor-critic with eligibility traces for continuing tasks (Sutton & Barto 2018, §13.6,
// "Actor–Critic with Eligibility Traces (continuing case)"), one environment, plain SGD on every step:
//   δ = R − R̄ + v̂(S′) − v̂(S)              (the differential TD error: no discount, R̄ instead)
//   R̄ ← R̄ + α^R̄ δ
//   z_w ← λ^w z_w + ∇v̂(S);   z_θ ← λ^θ z_θ + ∇ln π(A|S)
//   w ← w + α^w δ z_w;       θ ← θ + α^θ δ z_θ
// The task never ends, so there is no I = γᵗ and no reset of the traces. The objective is the average
// reward r(π) = lim (1/T) Σ E[R_t]; its gradient is the continuing policy gradient theorem, checked by
// `verify average-reward`.

/// The average-reward actor-critic's hyperparameters (S&B's symbols).
public struct AverageRewardActorCriticConfig: Codable, Sendable, Equatable {
    /// Id of a continuing environment (`EnvironmentRegistry.continuingIDs`).
    public var environmentID = AccessControlQueuing.identifier
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps (one update per step).
    public var totalSteps = 200_000
    /// α^θ, α^w: SGD step sizes of the actor and the critic. The defaults (with λ = 0.5 and α^R̄ = 0.01)
    /// reached 97–100 % of the queuing task's optimum r* for seeds 1–5 at 200,000 steps (a small sweep:
    /// α^θ 0.1 gave 94–99 %, λ 0 at 100,000 steps 80–99 %).
    public var actorStepSize = 0.05
    public var criticStepSize = 0.1
    /// α^R̄: step size of the average-reward estimate R̄.
    public var averageRewardStepSize = 0.01
    /// λ^θ, λ^w: trace decays of the actor and the critic.
    public var actorTraceDecay = 0.5
    public var criticTraceDecay = 0.5
    /// Hidden layer sizes of actor and critic; none (the default) makes both linear in the observation,
    /// which for the queuing task's one-hot states is a softmax table and a value table.
    public var hiddenSizes: [Int] = []
    /// Steps between two metric rows (the mean reward and |δ| over the interval, and R̄).
    public var logInterval = 1_000
    /// Steps of the greedy policy's evaluation at the end (its mean reward per step).
    public var evaluationSteps = 100_000
    /// Steps between greedy evaluations during training (each `evaluationSteps` long, logged as
    /// `eval/average_reward`); 0 (the default): only the one at the end.
    public var evaluationInterval = 0

    public init() {}

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(
            EnvironmentRegistry.continuingIDs.contains(environmentID),
            "'\(environmentID)' is not a continuing environment — choose one of "
                + EnvironmentRegistry.continuingIDs.joined(separator: ", ") + " (episodic tasks: train ac-lambda)")
        try require(totalSteps > 0, "--total-steps must be positive")
        try require(
            actorStepSize > 0 && criticStepSize > 0 && averageRewardStepSize > 0,
            "the step sizes α^θ, α^w and α^R̄ must be > 0")
        try require(
            (0...1).contains(actorTraceDecay) && (0...1).contains(criticTraceDecay), "λ^θ and λ^w must lie in [0, 1]")
        try require(hiddenSizes.allSatisfy { $0 > 0 }, "hidden layer sizes must be positive")
        try require(logInterval > 0, "--log-interval must be positive")
        try require(evaluationSteps >= 0, "--eval-steps must be 0 or more")
        try require(evaluationInterval >= 0, "--eval-interval must be 0 (only at the end) or more")
        try require(
            evaluationInterval == 0 || evaluationSteps > 0,
            "--eval-interval needs --eval-steps of 1 or more (there is nothing to evaluate with 0)")
    }
}

/// The final figures of an average-reward run.
public struct AverageRewardTrainingResult: Codable, Sendable, Equatable {
    /// The greedy policy's mean reward per step over `evaluationSteps` (NaN when 0).
    public var evaluationAverageReward: Double
    /// R̄ at the end of training.
    public var averageRewardEstimate: Double
    public var environmentSteps: Int
    public var wallSeconds: Double
    public var stepsPerSecond: Double
}

/// The average-reward actor-critic; `train` reads top to bottom as S&B's pseudocode.
public final class AverageRewardActorCriticTrainer {
    public let config: AverageRewardActorCriticConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: Progress?

    /// What a checkpoint saves beside the weights: the learner (the task's state and generator, the traces,
    /// the run's generator), R̄ and the sums of the metric interval under way.
    struct Counters: Codable {
        var averageReward: Double
        var intervalReward: Double
        var intervalError: Double
    }
    typealias Progress = TraceActorCriticProgress<Counters>

    public init(config: AverageRewardActorCriticConfig) throws {
        try config.validate()
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        policy = try MLPActorCritic.make(
            environmentID: config.environmentID, hiddenSizes: config.hiddenSizes, generator: &generator)
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, the task's state, the traces, R̄, the generator and the step.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        let progress = try Progress.restore(weights: weights, state: state, policy: policy)
        generator = progress.learner.generator
        resumed = progress
    }

    public func train(
        events: TrainingEventSink, shouldStop: () -> Bool = { false }
    ) throws -> AverageRewardTrainingResult {
        let start = ContinuousClock.now
        let actorParameters = policy.actor.parameters + (policy.logStandardDeviation.map { [$0] } ?? [])
        let criticParameters = policy.critic.parameters
        var (environment, observation, actorTraces, criticTraces) = try TraceLearnerState.start(
            resumed: resumed?.learner, environmentID: config.environmentID, actorParameters: actorParameters,
            criticParameters: criticParameters, generator: &generator)
        var averageReward = resumed?.extra.averageReward ?? 0  // R̄
        var intervalReward = resumed?.extra.intervalReward ?? 0, intervalError = resumed?.extra.intervalError ?? 0
        // A checkpoint after `step` steps, with the state to resume from.
        func saveCheckpoint(step: Int) throws {
            let state = try Progress(
                learner: TraceLearnerState(
                    steps: step, generator: generator, environment: environment.snapshot, observation: observation,
                    actorTraces: actorTraces, criticTraces: criticTraces),
                extra: Counters(
                    averageReward: averageReward, intervalReward: intervalReward, intervalError: intervalError)
            ).encoded()
            let checkpoint = policy.checkpoint(normalizer: nil)
            try events(
                .checkpoint(
                    step: step, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: state))
        }
        for step in stride(from: (resumed?.learner.steps ?? 0) + 1, through: config.totalSteps, by: 1) {
            if step % 1000 == 0, shouldStop() { throw TrainingError.interrupted(step: step) }
            let decision = policy.act(observations: observation, count: 1, generator: &generator)
            let result = try environment.step(policy.environmentActions(decision, count: 1)[0])

            // ∇ ln π(A|S) and ∇ v̂(S) on the tape, then the differential TD error δ.
            policy.zeroGradients()
            let evaluation = policy.evaluate(
                observations: Tensor(shape: [1, environment.observationSize], data: observation),
                actions: policy.storedActions(decision))
            evaluation.logProbabilities.sum().backward()
            evaluation.values.sum().backward()
            let value = Double(evaluation.values.data[0])
            let nextValue = Double(policy.values(observations: result.observation, count: 1)[0])
            let delta = result.reward - averageReward + nextValue - value
            guard delta.isFinite else { throw TrainingError.diverged(step: step, quantity: "the TD error") }

            // R̄, the traces and the SGD steps.
            averageReward += config.averageRewardStepSize * delta
            eligibilityTraceStep(
                actorParameters, traces: &actorTraces, gamma: 1, lambda: config.actorTraceDecay,
                stepSize: config.actorStepSize * delta)
            eligibilityTraceStep(
                criticParameters, traces: &criticTraces, gamma: 1, lambda: config.criticTraceDecay,
                stepSize: config.criticStepSize * delta)
            observation = result.observation

            intervalReward += result.reward
            intervalError += abs(delta)
            if step % config.logInterval == 0 {
                let count = Double(config.logInterval)
                try events(
                    .metrics(
                        step: step, samplesSeen: step,
                        values: [
                            "average_reward": averageReward, "charts/reward_rate": intervalReward / count,
                            "losses/td_error": intervalError / count,
                        ]))
                if step % (config.logInterval * 20) == 0 {
                    try events(
                        .progress(
                            "step \(step)  R̄ \(formatted(averageReward))  "
                                + "reward/step (last \(config.logInterval)) \(formatted(intervalReward / count))"))
                }
                intervalReward = 0
                intervalError = 0
            }
            // The evaluation during training (its environment and draws are its own); the last step's is below.
            if config.evaluationInterval > 0, step % config.evaluationInterval == 0, step < config.totalSteps {
                try events(
                    .metrics(
                        step: step, samplesSeen: step, values: ["eval/average_reward": try greedyAverageReward()]))
            }
            // With every progress line, once the step's rows are logged, a checkpoint to resume from (the last
            // step's is below).
            if step % (config.logInterval * 20) == 0, step < config.totalSteps { try saveCheckpoint(step: step) }
        }
        try saveCheckpoint(step: config.totalSteps)
        let trainingSeconds = secondsSince(start)
        let evaluation = try greedyAverageReward()
        try events(
            .metrics(
                step: config.totalSteps, samplesSeen: config.totalSteps,
                values: ["eval/average_reward": evaluation, "average_reward": averageReward]))
        return AverageRewardTrainingResult(
            evaluationAverageReward: evaluation, averageRewardEstimate: averageReward,
            environmentSteps: config.totalSteps, wallSeconds: secondsSince(start),
            stepsPerSecond: Double(config.totalSteps) / max(trainingSeconds, 1e-9))
    }

    /// The greedy policy's mean reward per step over `evaluationSteps`, from a fresh environment whose draws
    /// come from a generator of their own (evaluating does not move the run's).
    private func greedyAverageReward() throws -> Double {
        guard config.evaluationSteps > 0 else { return .nan }
        var evaluationGenerator = SeededGenerator(seed: config.seed ^ 0xE7A1_0A7E)
        var environment = try EnvironmentRegistry.make(config.environmentID)
        var observation = environment.reset(generator: &evaluationGenerator)
        var total = 0.0
        for _ in 0..<config.evaluationSteps {
            let decision = policy.act(
                observations: observation, count: 1, generator: &evaluationGenerator, greedy: true)
            let result = try environment.step(policy.environmentActions(decision, count: 1)[0])
            total += result.reward
            observation = result.observation
        }
        return total / Double(config.evaluationSteps)
    }

    private func formatted(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return "\(rounded)"
    }
}
