import Policies

/// The control trainers' evaluation during training (`--eval-interval N`), as the token trainers evaluate
/// every `evaluationInterval` steps: every N-th logged step (an update for PPO, REINFORCE, A2C and
/// off-policy; an episode for actor-critic(λ)) the greedy policy runs the same seeded episodes as the final
/// evaluation and its `eval/return_mean` and `eval/return_std` are logged at that step. The episodes draw
/// from a generator of their own and the observation normaliser is a frozen copy, so evaluating leaves
/// every training draw, and so every other metric, as it is without it.
struct ControlPeriodicEvaluation {
    let environmentID: String
    /// Greedy episodes per evaluation (the run's `evaluationEpisodes`).
    let episodes: Int
    /// The run's seed, from which the evaluation's own generator is made.
    let seed: UInt64
    /// Logged steps between evaluations (0: only the final one).
    let interval: Int

    init(config: some ControlTrainingConfig, environmentID: String) {
        self.environmentID = environmentID
        episodes = config.evaluationEpisodes
        seed = config.seed
        interval = config.evaluationInterval
    }

    /// Evaluates at `step` when it is a multiple of the interval; the run's last step is left to
    /// `ControlEvaluator.finish`, which evaluates it anyway.
    func evaluateIfDue(
        step: Int, samplesSeen: Int, isLast: Bool, policy: MLPActorCritic, normalizer: ObservationNormalizer?,
        events: TrainingEventSink
    ) throws {
        guard interval > 0, episodes > 0, step % interval == 0, !isLast else { return }
        let evaluation = try ControlEvaluator.evaluate(
            policy: policy, environmentID: environmentID, episodes: episodes, normalizer: normalizer, seed: seed,
            step: step, samplesSeen: samplesSeen, events: events)
        try events(
            .progress(
                String(
                    format: "evaluation at step %d: greedy return %.1f ± %.1f over %d episodes", step,
                    evaluation.mean, evaluation.standardDeviation, episodes)))
    }
}
