import Environments
import Policies
import Randomness

/// S steps of E environments, stored step-major (row s·E + e): what PPO, A2C and off-policy actor-critic
/// learn from.
struct ControlRollout {
    /// (S·E, d) the policy's inputs (normalised when the collector normalises observations).
    var observations: [Float] = []
    /// (S·E, action width) the actions as `MLPActorCritic.evaluate` takes them back.
    var actions: [Float] = []
    /// (S·E) log μ(a|s) of the policy that acted.
    var logProbabilities: [Double] = []
    /// (S·E) V(s) of the trained policy's critic.
    var values: [Double] = []
    /// (S·E) rewards (normalised when the collector normalises rewards).
    var rewards: [Double] = []
    /// (S·E) 1 where s is the first observation after an episode ended (CleanRL's `dones`).
    var dones: [Double] = []
    /// (S·E) V(final observation) where the episode was truncated at this step, else 0.
    var truncationBootstrap: [Double] = []
    /// (E) V and done flags of the observations after the last step, for bootstrapping.
    var nextValues: [Double] = []
    var nextDone: [Double] = []
    /// Episodes that ended during the rollout, in the order they ended.
    var finishedEpisodes: [EpisodeRecord] = []
}

/// Collects rollouts from a vector environment (same-step auto-reset), keeping the current observation
/// and done flags from one rollout to the next, with Gymnasium's optional observation and reward
/// normalisation.
final class ControlRolloutCollector {
    /// How the critic values the final observations of episodes truncated at a step: in one batch, or
    /// one environment at a time. The two can differ in the last bits once 8 or more environments
    /// truncate together (the gemm's full 8-row tiles start from the bias, its edge tiles add it last),
    /// so each trainer keeps the form its seeded figures were recorded with.
    enum TruncationValues { case none, batched, oneEnvironmentAtATime }

    let environments: VectorEnvironment
    var observationNormalizer: ObservationNormalizer?
    var rewardNormalizer: RewardNormalizer?
    private var observation: [Float]
    private var nextDone: [Double]

    /// Resets every environment.
    init(
        environments: VectorEnvironment, observationNormalizer: ObservationNormalizer? = nil,
        rewardNormalizer: RewardNormalizer? = nil
    ) {
        self.environments = environments
        self.observationNormalizer = observationNormalizer
        self.rewardNormalizer = rewardNormalizer
        observation = []
        nextDone = [Double](repeating: 0, count: environments.count)
        observation = normalized(environments.reset(), rows: environments.count)
    }

    /// `steps` steps of every environment. `acting` chooses the actions (the trained `policy` unless a
    /// stored behaviour policy acts); `policy`'s critic gives the values.
    func collect(
        steps: Int, policy: MLPActorCritic, acting: MLPActorCritic, truncationValues: TruncationValues,
        generator: inout SeededGenerator
    ) throws -> ControlRollout {
        let n = environments.count
        var rollout = ControlRollout()
        for _ in 0..<steps {
            rollout.observations += observation
            rollout.dones += nextDone
            let decision = acting.act(observations: observation, count: n, generator: &generator)
            rollout.actions += policy.storedActions(decision)
            rollout.logProbabilities += decision.logProbabilities.map(Double.init)
            // The acting policy's critic already ran on these rows; a behaviour policy's is not the one trained.
            let values = acting === policy ? decision.values : policy.values(observations: observation, count: n)
            rollout.values += values.map(Double.init)
            let result = try environments.step(policy.environmentActions(decision, count: n))
            let ended = (0..<n).map { result.terminated[$0] || result.truncated[$0] }
            if var normalizer = rewardNormalizer {
                rollout.rewards += normalizer(result.rewards, terminated: ended)
                rewardNormalizer = normalizer
            } else {
                rollout.rewards += result.rewards
            }
            for e in 0..<n { nextDone[e] = ended[e] ? 1 : 0 }
            rollout.truncationBootstrap += truncationBootstrap(result, policy: policy, truncationValues)
            rollout.finishedEpisodes += environments.drainCompletedEpisodes()
            observation = normalized(result.observations, rows: n)
        }
        rollout.nextValues = policy.values(observations: observation, count: n).map(Double.init)
        rollout.nextDone = nextDone
        return rollout
    }

    /// V(final observation) of each environment truncated (not terminated) at this step, else 0.
    private func truncationBootstrap(
        _ result: VectorStepResult, policy: MLPActorCritic, _ truncationValues: TruncationValues
    ) -> [Double] {
        let n = environments.count
        var bootstrap = [Double](repeating: 0, count: n)
        let truncated = (0..<n).filter { result.truncated[$0] && !result.terminated[$0] }
        switch truncationValues {
        case .none:
            break
        case .batched:
            guard !truncated.isEmpty else { break }
            let finals = truncated.flatMap { result.finalObservations[$0] ?? [] }
            let rows = normalizedKeepingStatistics(finals, rows: truncated.count)
            let values = policy.values(observations: rows, count: truncated.count)
            for (j, e) in truncated.enumerated() { bootstrap[e] = Double(values[j]) }
        case .oneEnvironmentAtATime:
            for e in truncated {
                guard let final = result.finalObservations[e] else { continue }
                bootstrap[e] = Double(
                    policy.values(observations: normalizedKeepingStatistics(final, rows: 1), count: 1)[0])
            }
        }
        return bootstrap
    }

    /// The collector between rollouts, for an exact resume: the current (normalised) observations, the
    /// done flags and both normalisers' statistics. The environments are snapshotted by `VectorEnvironment`.
    struct Snapshot: Codable {
        var observation: [Float]
        var nextDone: [Double]
        var observationNormalizer: ObservationNormalizer?
        var rewardNormalizer: RewardNormalizer?
    }

    var snapshot: Snapshot {
        Snapshot(
            observation: observation, nextDone: nextDone, observationNormalizer: observationNormalizer,
            rewardNormalizer: rewardNormalizer)
    }

    /// Continues from a snapshot (the environments' own is restored apart).
    func restore(_ snapshot: Snapshot) throws {
        guard snapshot.observation.count == observation.count, snapshot.nextDone.count == nextDone.count,
            (snapshot.observationNormalizer == nil) == (observationNormalizer == nil),
            (snapshot.rewardNormalizer == nil) == (rewardNormalizer == nil)
        else { throw ResumeStateError.unreadable("its rollout state does not fit the config's environments") }
        observation = snapshot.observation
        nextDone = snapshot.nextDone
        observationNormalizer = snapshot.observationNormalizer
        rewardNormalizer = snapshot.rewardNormalizer
    }

    /// Normalises rows and folds them into the running statistics (no-op without a normaliser).
    private func normalized(_ observations: [Float], rows: Int) -> [Float] {
        guard var normalizer = observationNormalizer else { return observations }
        let out = normalizer(observations, rows: rows)
        observationNormalizer = normalizer
        return out
    }

    /// Normalises rows with the statistics as they are (final observations are not new data).
    private func normalizedKeepingStatistics(_ observations: [Float], rows: Int) -> [Float] {
        observationNormalizer?.normalizedKeepingStatistics(observations, rows: rows) ?? observations
    }
}
