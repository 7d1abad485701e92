import Autograd
import Environments
import NN
import Policies
import Randomness

// What the control trainers save with a checkpoint, beside the weights and Adam (ResumeState.swift), so that
// `train … --resume RUN` goes on exactly as the uninterrupted run: the batch trainers (PPO, REINFORCE, A2C,
// off-policy actor-critic) between two updates, the online trace actor-critics (actor-critic(λ), average-reward)
// between two environment steps. Evaluations draw from generators made afresh from the seed each time
// (ControlEvaluator), so they have nothing to save; the learning-rate schedule is set from the update number.

/// A classic-control trainer that `train … --resume RUN` can continue (PPO, REINFORCE, A2C, off-policy
/// actor-critic, actor-critic(λ)): made from the run's recorded config, given its last checkpoint, trained on.
public protocol ResumableControlTrainer {
    associatedtype Config: ControlTrainingConfig & Decodable
    init(config: Config) throws
    var policy: MLPActorCritic { get }
    /// Takes up a checkpoint this config saved: `weights`, and `state`, its optimizer column.
    func restore(weights: [UInt8], state: [UInt8]) throws
    func train(events: TrainingEventSink, shouldStop: () -> Bool, budget: WallClockBudget) throws
        -> ControlTrainingResult
}

extension ControlPPOTrainer: ResumableControlTrainer {}
extension ReinforceTrainer: ResumableControlTrainer {}
extension A2CTrainer: ResumableControlTrainer {}
extension OffPolicyActorCriticTrainer: ResumableControlTrainer {}
extension ActorCriticLambdaTrainer: ResumableControlTrainer {}

/// Where a batch control trainer's run stands after an update.
struct BatchControlProgress: Codable {
    /// Updates done and environment steps taken.
    var update: Int
    var environmentSteps: Int
    /// The run's generator (actions and minibatch shuffles) and the environments (states, reset generators,
    /// running episode statistics).
    var generator: SeededGenerator
    var environments: VectorEnvironment.Snapshot
    /// The rollout collector's observations, done flags and normalisers (nil for REINFORCE, whose updates
    /// start from reset environments).
    var rollouts: ControlRolloutCollector.Snapshot?
    /// The last 20 finished episodes' returns (the progress line's mean).
    var recentReturns: [Double]
    /// Off-policy actor-critic: the behaviour policy μ's weights by parameter name (nil for the others).
    var behaviourWeights: [String: [Float]]?
}

/// A batch control trainer whose checkpoints carry `BatchControlProgress`.
protocol ResumableBatchControlTrainer: AnyObject {
    var policy: MLPActorCritic { get }
    var optimizer: AdamW { get }
    var generator: SeededGenerator { get set }
    var environments: VectorEnvironment { get }
    /// The collector that keeps observations from one update to the next (nil when there is none).
    var rolloutCollector: ControlRolloutCollector? { get }
    /// Where a resumed run continues (nil: from the start); `train` starts from it.
    var resumed: BatchControlProgress? { get set }
}

extension ResumableBatchControlTrainer {
    /// Takes up a checkpoint this trainer's config saved (`weights`, and `state`, its optimizer column): the
    /// weights, Adam's t and moments, the generator, the environments mid-episode and the collector; returns
    /// the progress (also kept as `resumed`). Call it on a trainer just made from the run's config.
    @discardableResult
    func restoreCheckpoint(weights: [UInt8], state: [UInt8]) throws -> BatchControlProgress {
        try ResumeState.loadWeights(weights, into: policy)
        let progress = try ResumeState.decode(state, as: BatchControlProgress.self, optimizer: optimizer)
        try environments.restore(progress.environments)
        if let collector = rolloutCollector {
            guard let snapshot = progress.rollouts else {
                throw ResumeStateError.unreadable("it has no rollout state for this trainer's collector")
            }
            try collector.restore(snapshot)
        }
        generator = progress.generator
        resumed = progress
        return progress
    }

    /// The state to save with the checkpoint after `update` (ControlProgress's `resumeState`); `behaviour`:
    /// off-policy actor-critic's μ.
    func resumeState(
        update: Int, environmentSteps: Int, recentReturns: [Double], behaviour: MLPActorCritic? = nil
    ) throws -> [UInt8] {
        try ResumeState.encode(
            optimizer: optimizer,
            progress: BatchControlProgress(
                update: update, environmentSteps: environmentSteps, generator: generator,
                environments: environments.snapshot, rollouts: rolloutCollector?.snapshot,
                recentReturns: recentReturns, behaviourWeights: behaviour?.stateDictionary().mapValues(\.values)))
    }
}

/// Where one of the online trace actor-critics stands between two environment steps: its single environment
/// mid-episode (the queuing task's own generator included), the observation it acts on next, and the
/// eligibility traces z_θ and z_w, which carry over from step to step (always for the continuing task, within
/// an episode for actor-critic(λ)).
struct TraceLearnerState: Codable {
    /// Environment steps taken.
    var steps: Int
    /// The run's generator (actions, and the episodic environment's resets).
    var generator: SeededGenerator
    var environment: EnvironmentSnapshot
    var observation: [Float]
    var actorTraces: [[Double]]
    var criticTraces: [[Double]]

    /// What `train` starts from: a fresh environment reset from `generator` with zero traces, or (`resumed`)
    /// the saved environment, observation and traces (the generator was restored with the weights).
    static func start(
        resumed: TraceLearnerState?, environmentID: String, actorParameters: [Tensor], criticParameters: [Tensor],
        generator: inout SeededGenerator
    ) throws -> (
        environment: any Environment, observation: [Float], actorTraces: [[Double]], criticTraces: [[Double]]
    ) {
        var environment = try EnvironmentRegistry.make(environmentID)
        guard let resumed else {
            let actorTraces = actorParameters.map { [Double](repeating: 0, count: $0.count) }
            let criticTraces = criticParameters.map { [Double](repeating: 0, count: $0.count) }
            return (environment, environment.reset(generator: &generator), actorTraces, criticTraces)
        }
        guard resumed.actorTraces.map(\.count) == actorParameters.map(\.count),
            resumed.criticTraces.map(\.count) == criticParameters.map(\.count),
            resumed.observation.count == environment.observationSize
        else { throw ResumeStateError.unreadable("its traces or observation do not fit the config's policy") }
        try environment.restore(resumed.environment)
        return (environment, resumed.observation, resumed.actorTraces, resumed.criticTraces)
    }
}

/// A trace actor-critic's checkpoint state: the learner's and the trainer's own `Extra` counters (no optimizer:
/// the steps are plain SGD).
struct TraceActorCriticProgress<Extra: Codable>: Codable {
    var learner: TraceLearnerState
    var extra: Extra

    /// The bytes to save with a checkpoint.
    func encoded() throws -> [UInt8] { try ResumeState.encode(progress: self) }

    /// Loads `weights` into `policy` and reads the state saved with them.
    static func restore(weights: [UInt8], state: [UInt8], policy: MLPActorCritic) throws -> Self {
        try ResumeState.loadWeights(weights, into: policy)
        return try ResumeState.decode(state, as: Self.self)
    }
}
