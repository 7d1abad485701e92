import Objectives
import Policies
import Randomness
import Tasks

/// One generation batch: P prompts × G completions, rows grouped by prompt (G consecutive rows each).
struct TokenRolloutBatch {
    /// G: completions per prompt.
    let groupSize: Int
    /// The prompt of each row.
    let prompts: [TaskPrompt]
    /// BOS + prompt ids of each row.
    let encodedPrompts: [[Int]]
    /// Generated ids of each row (EOS included when it was sampled).
    let completions: [[Int]]
    /// Completion texts (up to EOS).
    let texts: [String]
    /// The reward of each row: Σ_k w_k·r_k over the reward source's components (with one component of
    /// weight 1, the task's verifiable reward or the reward model's score itself).
    let rewards: [Double]
    /// Σ log π of each row's sampled tokens at the sampling temperature.
    let totalLogProbabilities: [Float]
    /// Whether each row stopped at the length limit without EOS (TRL's `is_truncated`).
    let truncated: [Bool]
    /// Each reward component's raw value of each row, for `rewards/<name>/mean` and `/std`.
    var rewardComponents: [RewardComponentValues] = []

    /// B = P·G.
    var rows: Int { prompts.count }

    /// What TRL's GRPO and RLOO trainers log about a generation batch:
    /// - `reward`: the mean; `reward_std`: the unbiased std over the whole batch (TRL ≥ 0.15's `nanstd(rewards)`);
    /// - `reward_std_within_group`: the mean over groups of the unbiased within-group std (what TRL ≤ 0.14 logged
    ///   as `reward_std`, and the σ GRPO's advantages divide by);
    /// - `frac_reward_zero_std`: the share of groups whose completions all scored alike (no learning signal);
    /// - `completions/mean_length`, `/min_length`, `/max_length`: completion tokens, EOS included;
    /// - `completions/clipped_ratio`: the share of completions that hit the length limit without EOS;
    /// - `rewards/<name>/mean` and `/std` (unbiased): each reward component's raw values, as TRL logs each
    ///   reward function.
    var metrics: [String: Double] {
        let groupStandardDeviations = stride(from: 0, to: rewards.count, by: groupSize).map {
            unbiasedStandardDeviation(Array(rewards[$0..<($0 + groupSize)]))
        }
        let lengths = completions.map { Double($0.count) }
        var metrics = [
            "reward": mean(rewards),
            "reward_std": unbiasedStandardDeviation(rewards),
            "reward_std_within_group": mean(groupStandardDeviations),
            "frac_reward_zero_std": mean(groupStandardDeviations.map { $0 < 1e-8 ? 1 : 0 }),
            "completions/mean_length": mean(lengths),
            "completions/min_length": lengths.min() ?? 0,
            "completions/max_length": lengths.max() ?? 0,
            "completions/clipped_ratio": mean(truncated.map { $0 ? 1 : 0 }),
        ]
        for component in rewardComponents {
            metrics["rewards/\(component.name)/mean"] = mean(component.values)
            metrics["rewards/\(component.name)/std"] = unbiasedStandardDeviation(component.values)
        }
        return metrics
    }

    /// All G completions of the first `prompts` prompts, with what the update made of them, for
    /// `policylab inspect`.
    func samples(prompts count: Int, update: TokenUpdate) -> [GeneratedSample] {
        (0..<min(count * groupSize, rows)).map { row in
            GeneratedSample(
                prompt: prompts[row].prompt, completion: texts[row], reward: rewards[row],
                logProbability: Double(totalLogProbabilities[row]), source: .rollout, group: row / groupSize,
                advantage: update.advantages[row], length: completions[row].count, truncated: truncated[row],
                value: update.values?[row], tokenKL: update.tokenKL?[row])
        }
    }
}

/// The token rollout every token RL trainer (GRPO, RLOO, token PPO, online DPO) calls once per step: draw
/// P prompts (from the task, or from a stored dataset's training rows), sample G completions of each with
/// the KV cache, and score them with the reward source.
struct TokenRollout {
    let task: any SequenceTask
    let codec: TokenTaskCodec
    /// Prompts drawn uniformly, with replacement, instead of the task's generator, when set (`--dataset`).
    let trainingPrompts: [TaskPrompt]?
    /// The reward of each completion (`--reward`).
    let reward: RewardSource
    /// P: prompts per step.
    let promptsPerStep: Int
    /// G: completions per prompt.
    let groupSize: Int
    let maxNewTokens: Int
    /// Sampling temperature.
    let temperature: Float

    /// Draws the prompts, then the completions, from `generator` (in that order, so seeded runs repeat).
    func collect(policy: TransformerPolicy, generator: inout SeededGenerator) throws -> TokenRolloutBatch {
        var drawn: [TaskPrompt] = []
        for _ in 0..<promptsPerStep {
            if let trainingPrompts {
                drawn.append(trainingPrompts[generator.nextInt(below: trainingPrompts.count)])
            } else {
                drawn.append(task.makePrompt(using: &generator))
            }
        }
        let prompts = drawn.flatMap { Array(repeating: $0, count: groupSize) }
        let encodedPrompts = try prompts.map { try codec.encodePrompt($0.prompt) }
        let options = SamplingOptions(temperature: temperature, maxNewTokens: maxNewTokens,
                                      stopToken: codec.vocabulary.eosID)
        let completions = policy.sample(prompts: encodedPrompts, options: options, generator: &generator)
        let texts = completions.map { codec.completionText($0.tokens) }
        let (rewards, components) = try reward.score(prompts: prompts, encodedPrompts: encodedPrompts,
                                                     completions: completions.map(\.tokens), texts: texts)
        return TokenRolloutBatch(groupSize: groupSize, prompts: prompts, encodedPrompts: encodedPrompts,
                                 completions: completions.map(\.tokens), texts: texts, rewards: rewards,
                                 totalLogProbabilities: completions.map(\.totalLogProbability),
                                 truncated: completions.map { codec.isTruncated($0.tokens) },
                                 rewardComponents: components)
    }
}
