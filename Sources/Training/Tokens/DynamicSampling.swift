import Objectives

/// DAPO's dynamic sampling (Yu et al. 2025, "DAPO" §3.2): a group whose G rewards all agree has zero
/// group-relative advantage and carries no learning signal, yet its tokens still count in the loss's
/// normaliser. Such groups are dropped, and more generation batches of P prompts are drawn until P groups
/// with differing rewards fill the batch (verl's `filter_groups`, at most `max_num_gen_batches` draws). Every
/// completion drawn counts in the run's budget, and a step never draws more generation batches than the budget
/// has left (`affordableBatches`), so a run spends exactly steps × P × G completions. Should the draws run out
/// first, the batch is filled with dropped groups (advantage 0), so that a step always has P groups.
///
/// The last draw of a step usually brings more groups with a signal than the batch has room for; DAPO (and
/// verl) cut the batch at P groups and discard the rest, though their completions were paid for. With
/// `keepsSurplusGroups` every group with a signal drawn for the step stays in its batch (P to 2P − 1 groups),
/// so that no completion the budget paid for with a signal goes unused (`--keep-surplus-groups`).
struct DynamicSampling {
    /// The most generation batches drawn for one step (verl `max_num_gen_batches`).
    let maximumGenerationBatches: Int
    /// Keep the groups with a signal beyond the P the step asked for, instead of discarding them.
    var keepsSurplusGroups = false

    /// One step's batch and what it cost.
    struct Outcome {
        /// P groups (more with `keepsSurplusGroups`), those with differing rewards first in draw order.
        var batch: TokenRolloutBatch
        /// Every group drawn, kept or not, in draw order (the unbiased sample, for the rollout metrics).
        var drawn: TokenRolloutBatch
        /// Generation batches of P prompts drawn.
        var generationBatches: Int
        /// Groups whose rewards all agreed, dropped.
        var droppedGroups: Int
        /// Dropped groups put back because the draws ran out.
        var refilledGroups: Int
    }

    /// Whether a group's rewards differ (its unbiased standard deviation is not 0, as
    /// `frac_reward_zero_std` counts it).
    static func hasSignal(_ rewards: ArraySlice<Double>) -> Bool {
        unbiasedStandardDeviation(Array(rewards)) >= 1e-8
    }

    /// Draws generation batches with `draw` until `groups` groups with differing rewards are kept, at most
    /// `maximumGenerationBatches` and at most `affordableBatches` (what the completion budget has left, ≥ 1).
    func collect(groups: Int, affordableBatches: Int = .max,
                 draw: () throws -> TokenRolloutBatch) rethrows -> Outcome {
        precondition(affordableBatches >= 1, "a step is only started while the budget affords a draw")
        let limit = min(maximumGenerationBatches, affordableBatches)
        var batches: [TokenRolloutBatch] = []
        var kept: [(batch: Int, group: Int)] = [], dropped: [(batch: Int, group: Int)] = []
        while kept.count < groups && batches.count < limit {
            let batch = try draw()
            batches.append(batch)
            let size = batch.groupSize
            for group in 0..<(batch.rows / size) {
                let rewards = batch.rewards[(group * size)..<((group + 1) * size)]
                if Self.hasSignal(rewards) {
                    if kept.count < groups || keepsSurplusGroups { kept.append((batches.count - 1, group)) }
                } else {
                    dropped.append((batches.count - 1, group))
                }
            }
        }
        let refilled = Array(dropped.prefix(max(groups - kept.count, 0)))
        let allDrawn = batches.indices.flatMap { b in (0..<(batches[b].rows / batches[b].groupSize)).map { (b, $0) } }
        return Outcome(batch: Self.gather(kept + refilled, from: batches),
                       drawn: Self.gather(allDrawn, from: batches), generationBatches: batches.count,
                       droppedGroups: dropped.count, refilledGroups: refilled.count)
    }

    /// The groups named by (generation batch, group index), in that order, as one batch.
    static func gather(_ groups: [(batch: Int, group: Int)], from batches: [TokenRolloutBatch]) -> TokenRolloutBatch {
        let size = batches[0].groupSize
        let rows = groups.flatMap { g in (0..<size).map { (g.batch, g.group * size + $0) } }
        return TokenRolloutBatch(
            groupSize: size, prompts: rows.map { batches[$0.0].prompts[$0.1] },
            encodedPrompts: rows.map { batches[$0.0].encodedPrompts[$0.1] },
            completions: rows.map { batches[$0.0].completions[$0.1] }, texts: rows.map { batches[$0.0].texts[$0.1] },
            rewards: rows.map { batches[$0.0].rewards[$0.1] },
            totalLogProbabilities: rows.map { batches[$0.0].totalLogProbabilities[$0.1] },
            truncated: rows.map { batches[$0.0].truncated[$0.1] },
            rewardComponents: batches[0].rewardComponents.indices.map { k in
                RewardComponentValues(name: batches[0].rewardComponents[k].name,
                                      values: rows.map { batches[$0.0].rewardComponents[k].values[$0.1] })
            })
    }
}
