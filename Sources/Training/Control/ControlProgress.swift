import Policies

/// The per-update report of the batch trainers (PPO, REINFORCE, A2C, off-policy actor-critic): the
/// update's metrics with SPS and the mean return of the episodes that finished in it; at every
/// `interval`-th update and the last, a progress line (mean return of the last 20 episodes) and a
/// checkpoint; and the greedy evaluation every `--eval-interval` updates.
struct ControlProgress {
    let start: ContinuousClock.Instant
    /// Updates between progress lines and checkpoints.
    let interval: Int
    /// The run's number of updates when it is fixed in advance (shown as "update u/U").
    var updates: Int?
    /// The evaluation during training (nil or interval 0: only the final one).
    let evaluation: ControlPeriodicEvaluation?
    /// The returns of the last 20 finished episodes (saved with a resumable checkpoint).
    var recentReturns: [Double] = []

    /// `recentReturns`: those of a resumed run's checkpoint.
    init(
        start: ContinuousClock.Instant, interval: Int, updates: Int? = nil, recentReturns: [Double] = [],
        evaluation: ControlPeriodicEvaluation? = nil
    ) {
        self.start = start
        self.interval = interval
        self.updates = updates
        self.recentReturns = recentReturns
        self.evaluation = evaluation
    }

    /// Reports update `update` after `steps` environment steps. `normalizer` is saved with the checkpoint, and
    /// so is `resumeState` of the recent returns, when the trainer can resume.
    mutating func report(
        update: Int, steps: Int, isLast: Bool, finishedReturns: [Double], metrics: [String: Double],
        policy: MLPActorCritic, normalizer: ObservationNormalizer? = nil, events: TrainingEventSink,
        resumeState: ((_ recentReturns: [Double]) throws -> [UInt8])? = nil
    ) throws {
        recentReturns = Array((recentReturns + finishedReturns).suffix(20))
        var metrics = metrics
        let stepsPerSecond = Double(steps) / max(secondsSince(start), 1e-9)
        metrics["charts/SPS"] = stepsPerSecond
        if !finishedReturns.isEmpty {
            metrics["charts/episodic_return"] = finishedReturns.reduce(0, +) / Double(finishedReturns.count)
        }
        try events(.metrics(step: update, samplesSeen: steps, values: metrics))
        try evaluation?.evaluateIfDue(
            step: update, samplesSeen: steps, isLast: isLast, policy: policy, normalizer: normalizer, events: events)
        guard update % interval == 0 || isLast else { return }
        let meanReturn = recentReturns.isEmpty ? Double.nan : recentReturns.reduce(0, +) / Double(recentReturns.count)
        let counter = updates.map { "\(update)/\($0)" } ?? "\(update)"
        try events(
            .progress(
                "update \(counter)  steps \(steps)  "
                    + String(format: "SPS %.0f  mean return (last 20 episodes) %.1f", stepsPerSecond, meanReturn)))
        let checkpoint = policy.checkpoint(normalizer: normalizer)
        try events(
            .checkpoint(
                step: update, configJSON: checkpoint.configJSON, weights: checkpoint.weights,
                optimizer: try resumeState?(recentReturns)))
    }
}
