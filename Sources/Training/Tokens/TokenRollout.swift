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
    /// The reward of each row: the task's verifiable reward or the reward model's score.
    let rewards: [Double]
    /// Σ log π of each row's sampled tokens at the sampling temperature.
    let totalLogProbabilities: [Float]

    /// B = P·G.
    var rows: Int { prompts.count }

    /// What TRL's GRPO and RLOO trainers log about a generation batch: `reward` (mean), `reward_std`
    /// (mean over groups of the unbiased within-group std), `frac_reward_zero_std` (share of groups whose
    /// completions all scored alike: no learning signal) and `completions/mean_length` (tokens, EOS included).
    var metrics: [String: Double] {
        let groupStandardDeviations = stride(from: 0, to: rewards.count, by: groupSize).map {
            unbiasedStandardDeviation(Array(rewards[$0..<($0 + groupSize)]))
        }
        return [
            "reward": mean(rewards),
            "reward_std": mean(groupStandardDeviations),
            "frac_reward_zero_std": mean(groupStandardDeviations.map { $0 < 1e-8 ? 1 : 0 }),
            "completions/mean_length": mean(completions.map { Double($0.count) }),
        ]
    }

    /// The first completion of the first `count` groups (wrapping around), for `policylab inspect`.
    func samples(count: Int = 4) -> [GeneratedSample] {
        (0..<min(count, rows)).map { k in
            let row = k * groupSize % rows
            return GeneratedSample(prompt: prompts[row].prompt, completion: texts[row], reward: rewards[row],
                                   logProbability: Double(totalLogProbabilities[row]))
        }
    }
}

/// The token rollout every token RL trainer (GRPO, RLOO, token PPO) calls once per step: draw P prompts
/// from the task, sample G completions of each with the KV cache, and score them.
struct TokenRollout {
    let task: any SequenceTask
    let codec: TokenTaskCodec
    /// Scores completions instead of the task's verifiable reward, when set (`--reward RUN`).
    let rewardModel: RewardModelScorer?
    /// P: prompts per step.
    let promptsPerStep: Int
    /// G: completions per prompt.
    let groupSize: Int
    let maxNewTokens: Int
    /// Sampling temperature.
    let temperature: Float

    /// Draws the prompts, then the completions, from `generator` (in that order, so seeded runs repeat).
    func collect(policy: TransformerPolicy, generator: inout SeededGenerator) throws -> TokenRolloutBatch {
        let drawn = (0..<promptsPerStep).map { _ in task.makePrompt(using: &generator) }
        let prompts = drawn.flatMap { Array(repeating: $0, count: groupSize) }
        let encodedPrompts = try prompts.map { try codec.encodePrompt($0.prompt) }
        let options = SamplingOptions(temperature: temperature, maxNewTokens: maxNewTokens,
                                      stopToken: codec.vocabulary.eosID)
        let completions = policy.sample(prompts: encodedPrompts, options: options, generator: &generator)
        let texts = completions.map { codec.completionText($0.tokens) }
        let rewards = try rewardModel.map { $0.scores(prompts: encodedPrompts, completions: completions.map(\.tokens)) }
            ?? zip(prompts, texts).map { try task.reward(prompt: $0.prompt, completion: $1) }
        return TokenRolloutBatch(groupSize: groupSize, prompts: prompts, encodedPrompts: encodedPrompts,
                                 completions: completions.map(\.tokens), texts: texts, rewards: rewards,
                                 totalLogProbabilities: completions.map(\.totalLogProbability))
    }
}
