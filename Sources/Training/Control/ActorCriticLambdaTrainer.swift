import Autograd
import Environments
import Objectives
import Policies
import Randomness

// One-environment, online actor-critic(λ) with accumulating eligibility traces (Sutton & Barto 2018,
// §13.5, "Actor–Critic with Eligibility Traces (episodic)"), plain SGD on every step:
// δ = R + γ·v̂(S′) − v̂(S);  z_w ← γλ·z_w + ∇v̂(S);  z_θ ← γλ·z_θ + I·∇ln π(A|S);
// w ← w + α_w·δ·z_w;  θ ← θ + α_θ·δ·z_θ;  I ← γ·I — with traces and I reset at each episode start.

/// Actor-critic(λ)'s hyperparameters.
public struct ActorCriticLambdaConfig: ControlTrainingConfig, Codable, Sendable, Equatable {
    /// Gymnasium id of the environment.
    public var environmentID: String
    /// Seed of every random draw of the run.
    public var seed: UInt64 = 1
    /// Environment steps of the whole run (one update per step).
    public var totalSteps = 100_000
    /// γ: discount.
    public var gamma = 0.99
    /// λ: trace decay, the same for actor and critic (λ^θ = λ^w).
    public var traceLambda = 0.9
    /// α_θ, α_w: SGD step sizes of actor and critic.
    public var actorStepSize = 1e-3
    public var criticStepSize = 1e-3
    /// Hidden layer sizes of actor and critic.
    public var hiddenSizes = [64, 64]
    /// Greedy evaluation episodes at the end.
    public var evaluationEpisodes = 20
    /// Logged steps between greedy evaluations during training (0: only at the end).
    public var evaluationInterval = 0

    public init(environmentID: String) { self.environmentID = environmentID }

    /// Refuses impossible settings before any work starts.
    public func validate() throws {
        try require(totalSteps > 0, "--total-steps must be positive")
        try require((0...1).contains(gamma), "γ must lie in [0, 1]")
        try require((0...1).contains(traceLambda), "λ must lie in [0, 1]")
        try require(actorStepSize > 0 && criticStepSize > 0, "step sizes must be > 0")
        try validateEvaluationSettings()
    }
}

/// Actor-critic(λ) on classic control; `train` reads top to bottom as S&B's pseudocode.
public final class ActorCriticLambdaTrainer {
    public let config: ActorCriticLambdaConfig
    public let policy: MLPActorCritic
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: Progress?

    /// What a checkpoint saves beside the weights: the learner (environment mid-episode, traces, generator)
    /// and the episode's counters.
    struct Counters: Codable {
        /// Episodes finished (the logged step), I = γᵗ, the running episode's return, the last 20 returns.
        var episodes: Int
        var discount: Double
        var episodeReturn: Double
        var recentReturns: [Double]
    }
    typealias Progress = TraceActorCriticProgress<Counters>

    public init(config: ActorCriticLambdaConfig) throws {
        try config.validate()
        self.config = config
        generator = SeededGenerator(seed: config.seed)
        policy = try MLPActorCritic.make(
            environmentID: config.environmentID, hiddenSizes: config.hiddenSizes, generator: &generator)
    }

    /// Continues from a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column):
    /// the weights, the environment mid-episode, the traces, I, the generator and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        let progress = try Progress.restore(weights: weights, state: state, policy: policy)
        generator = progress.learner.generator
        resumed = progress
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> ControlTrainingResult {
        let start = ContinuousClock.now
        let actorParameters = policy.actor.parameters + (policy.logStandardDeviation.map { [$0] } ?? [])
        let criticParameters = policy.critic.parameters
        var (environment, observation, actorTraces, criticTraces) = try TraceLearnerState.start(
            resumed: resumed?.learner, environmentID: config.environmentID, actorParameters: actorParameters,
            criticParameters: criticParameters, generator: &generator)
        var discount = resumed?.extra.discount ?? 1  // I = γᵗ
        var episodeReturn = resumed?.extra.episodeReturn ?? 0
        var recent = resumed?.extra.recentReturns ?? []
        var episodes = resumed?.extra.episodes ?? 0, steps = resumed?.learner.steps ?? 0
        let periodicEvaluation = ControlPeriodicEvaluation(config: config, environmentID: config.environmentID)
        // The checkpoint's state: where the run stands after `steps` steps.
        func state() throws -> [UInt8] {
            try Progress(
                learner: TraceLearnerState(
                    steps: steps, generator: generator, environment: environment.snapshot, observation: observation,
                    actorTraces: actorTraces, criticTraces: criticTraces),
                extra: Counters(
                    episodes: episodes, discount: discount, episodeReturn: episodeReturn, recentReturns: recent)
            ).encoded()
        }
        for step in stride(from: steps + 1, through: config.totalSteps, by: 1) {
            if step % 1000 == 0, shouldStop() { throw TrainingError.interrupted(step: step) }
            if step % 1000 == 0, budget.isSpent { break }
            steps = step
            let decision = policy.act(observations: observation, count: 1, generator: &generator)
            let result = try environment.step(policy.environmentActions(decision, count: 1)[0])
            episodeReturn += result.reward

            // ∇ ln π(A|S) and ∇ v̂(S) on the tape, then the TD error δ.
            policy.zeroGradients()
            let evaluation = policy.evaluate(
                observations: Tensor(shape: [1, environment.observationSize], data: observation),
                actions: policy.storedActions(decision))
            evaluation.logProbabilities.sum().backward()
            evaluation.values.sum().backward()
            let value = Double(evaluation.values.data[0])
            let nextValue = result.terminated ? 0 : Double(policy.values(observations: result.observation, count: 1)[0])
            let delta = result.reward + config.gamma * nextValue - value
            guard delta.isFinite else { throw TrainingError.diverged(step: step, quantity: "the TD error") }

            // Traces and SGD steps: z_θ with I·∇ln π, z_w with ∇v̂.
            eligibilityTraceStep(
                actorParameters, traces: &actorTraces, gradientScale: discount, gamma: config.gamma,
                lambda: config.traceLambda, stepSize: config.actorStepSize * delta)
            eligibilityTraceStep(
                criticParameters, traces: &criticTraces, gamma: config.gamma, lambda: config.traceLambda,
                stepSize: config.criticStepSize * delta)
            discount *= config.gamma
            observation = result.observation

            // Episode end: report, reset traces and I.
            if result.terminated || result.truncated {
                episodes += 1
                recent = Array((recent + [episodeReturn]).suffix(20))
                try events(
                    .metrics(
                        step: episodes, samplesSeen: step,
                        values: [
                            "charts/episodic_return": episodeReturn, "losses/td_error": abs(delta),
                        ]))
                try periodicEvaluation.evaluateIfDue(
                    step: episodes, samplesSeen: step, isLast: step == config.totalSteps, policy: policy,
                    normalizer: nil, events: events)
                episodeReturn = 0
                discount = 1
                for i in actorTraces.indices { actorTraces[i] = actorTraces[i].map { _ in 0 } }
                for i in criticTraces.indices { criticTraces[i] = criticTraces[i].map { _ in 0 } }
                observation = environment.reset(generator: &generator)
                // Every 50 episodes a progress line and a checkpoint to resume from.
                if episodes % 50 == 0 {
                    try events(
                        .progress(
                            String(
                                format: "episode %d  steps %d  mean return (last 20) %.1f",
                                episodes, step, recent.reduce(0, +) / Double(recent.count))))
                    let checkpoint = policy.checkpoint(normalizer: nil)
                    try events(
                        .checkpoint(
                            step: episodes, configJSON: checkpoint.configJSON, weights: checkpoint.weights,
                            optimizer: try state()))
                }
            }
        }
        let checkpoint = policy.checkpoint(normalizer: nil)
        try events(
            .checkpoint(
                step: episodes, configJSON: checkpoint.configJSON, weights: checkpoint.weights,
                optimizer: try state()))
        return try ControlEvaluator.finish(
            policy: policy, environmentID: config.environmentID, episodes: config.evaluationEpisodes, seed: config.seed,
            step: episodes, environmentSteps: steps, start: start, events: events)
    }
}
