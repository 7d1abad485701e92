import Policies
import Tasks

// Evaluating a stored checkpoint again, with the trainers' own evaluators (`policylab eval`): control policies
// by the return of seeded episodes, token policies by exact match and reward on held-out prompts.

public enum CheckpointEvaluation {
    /// The mean and population standard deviation of the undiscounted return over `episodes` episodes whose
    /// resets draw from `seed`; actions greedy (argmax / Gaussian mean) or sampled from the policy.
    public static func control(
        _ checkpoint: ControlCheckpoint, environmentID: String, episodes: Int, seed: UInt64, greedy: Bool
    ) throws -> (mean: Double, standardDeviation: Double) {
        try ControlEvaluator.greedyReturns(
            policy: checkpoint.policy, environmentID: environmentID, episodes: episodes,
            normalizer: checkpoint.normalizer, seed: seed, greedy: greedy)
    }

    /// Exact match and mean reward on `prompts` held-out prompts of `taskName` (the same prompts a trainer with
    /// seed `seed` evaluates on), greedy (`temperature` nil) or sampled at `temperature` from `samplingSeed`.
    public static func tokens(
        _ policy: TransformerPolicy, taskName: String, prompts: Int, seed: UInt64, maxNewTokens: Int,
        temperature: Float?, samplingSeed: UInt64
    ) throws -> TokenEvaluation {
        let evaluator = TokenEvaluator(
            task: try TaskRegistry.task(named: taskName), codec: TokenTaskCodec(), promptCount: prompts, seed: seed,
            maxNewTokens: maxNewTokens)
        return try evaluator.evaluate(policy, sampleCount: 0, temperature: temperature, samplingSeed: samplingSeed).0
    }
}
