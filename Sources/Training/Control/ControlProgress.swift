import Policies

/// The per-update report of the batch trainers (PPO, REINFORCE, A2C, off-policy actor-critic): the
/// update's metrics with SPS and the mean return of the episodes that finished in it; at every
/// `interval`-th update and the last, a progress line (mean return of the last 20 episodes) and a
/// checkpoint.
struct ControlProgress {
    let start: ContinuousClock.Instant
    /// Updates between progress lines and checkpoints.
    let interval: Int
    /// The run's number of updates when it is fixed in advance (shown as "update u/U").
    var updates: Int?
    private var recentReturns: [Double] = []

    init(start: ContinuousClock.Instant, interval: Int, updates: Int? = nil) {
        self.start = start
        self.interval = interval
        self.updates = updates
    }

    /// Reports update `update` after `steps` environment steps. `normalizer` is saved with the checkpoint.
    mutating func report(
        update: Int, steps: Int, isLast: Bool, finishedReturns: [Double], metrics: [String: Double],
        policy: MLPActorCritic, normalizer: ObservationNormalizer? = nil, events: TrainingEventSink
    ) throws {
        recentReturns = Array((recentReturns + finishedReturns).suffix(20))
        var metrics = metrics
        let stepsPerSecond = Double(steps) / max(secondsSince(start), 1e-9)
        metrics["charts/SPS"] = stepsPerSecond
        if !finishedReturns.isEmpty {
            metrics["charts/episodic_return"] = finishedReturns.reduce(0, +) / Double(finishedReturns.count)
        }
        try events(.metrics(step: update, samplesSeen: steps, values: metrics))
        guard update % interval == 0 || isLast else { return }
        let meanReturn = recentReturns.isEmpty ? Double.nan : recentReturns.reduce(0, +) / Double(recentReturns.count)
        let counter = updates.map { "\(update)/\($0)" } ?? "\(update)"
        try events(
            .progress(
                "update \(counter)  steps \(steps)  "
                    + String(format: "SPS %.0f  mean return (last 20 episodes) %.1f", stepsPerSecond, meanReturn)))
        let checkpoint = policy.checkpoint(normalizer: normalizer)
        try events(
            .checkpoint(step: update, configJSON: checkpoint.configJSON, weights: checkpoint.weights, optimizer: nil))
    }
}
