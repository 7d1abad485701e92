import Policies
import Randomness
import Tasks

/// Scored responses (`scored` datasets) as Bradley–Terry pairs, and completions sampled from a policy and
/// scored — the two ways reward datasets meet training (issue 21 §3).
///
/// The reward model trains on scored rows by Bradley–Terry on pairs built within a prompt, as InstructGPT
/// trains on K ranked responses as their K(K−1)/2 pairs (Ouyang et al. 2022 §3.5): every two responses to
/// the same prompt whose rewards differ make a pair, the higher one chosen; a tie says nothing and is left
/// out. Regression on the score was the alternative; the pairs keep the one loss and trainer that preference
/// datasets train, and only the ordering of the scores matters, whatever their scale.
public struct ScoredExample: Sendable, Equatable {
    public var prompt: String
    public var response: String
    public var reward: Double
    public init(prompt: String, response: String, reward: Double) {
        self.prompt = prompt
        self.response = response
        self.reward = reward
    }
}

/// The pairs of `rows` within each prompt (prompts in order of first appearance, pairs in row order).
public func preferencePairs(fromScored rows: [ScoredExample]) -> [PreferenceExample] {
    var order: [String] = []
    var groups: [String: [ScoredExample]] = [:]
    for row in rows {
        if groups[row.prompt] == nil { order.append(row.prompt) }
        groups[row.prompt, default: []].append(row)
    }
    var pairs: [PreferenceExample] = []
    for prompt in order {
        let group = groups[prompt]!
        for i in group.indices {
            for j in group.indices where j > i && group[i].reward != group[j].reward {
                let (chosen, rejected) = group[i].reward > group[j].reward ? (group[i], group[j]) : (group[j], group[i])
                pairs.append(PreferenceExample(prompt: prompt, chosen: chosen.response, rejected: rejected.response))
            }
        }
    }
    return pairs
}

/// A prompt with completions sampled from a policy and the reward of each.
public struct ScoredCompletionGroup: Sendable, Equatable {
    public var prompt: String
    public var completions: [String]
    public var rewards: [Double]
}

/// `prompts` training prompts of `task` (never a held-out one), `samplesPerPrompt` completions of each
/// sampled from `policy` at `temperature` (the KV-cache sampler of the token rollout), each scored by
/// `reward`; every draw from a generator seeded with `seed`. A completion that holds a special token (BOS or
/// PAD sampled mid-sequence) has no text to store, and is left out of its group.
public func sampleScoredCompletions(
    policy: TransformerPolicy, task: any SequenceTask, reward: RewardSource, prompts: Int, samplesPerPrompt: Int,
    maxNewTokens: Int, temperature: Float, seed: UInt64
) throws -> [ScoredCompletionGroup] {
    let codec = TokenTaskCodec()
    guard policy.config.vocabularySize == codec.vocabulary.size else {
        throw TrainingError.invalidConfiguration(
            "the run's vocabulary has \(policy.config.vocabularySize) tokens, the tasks use \(codec.vocabulary.size) "
                + "— sample from a run trained on PolicyLab's tasks")
    }
    guard prompts > 0, samplesPerPrompt > 0, maxNewTokens > 0, temperature > 0, temperature.isFinite else {
        throw TrainingError.invalidConfiguration("--count, --samples, --max-new-tokens and --temperature must be > 0")
    }
    var generator = SeededGenerator(seed: seed)
    var groups: [ScoredCompletionGroup] = []
    // Chunks of 64 prompts, one rollout each.
    for start in stride(from: 0, to: prompts, by: 64) {
        let rollout = TokenRollout(task: task, codec: codec, trainingPrompts: nil, reward: reward,
                                   promptsPerStep: min(64, prompts - start), groupSize: samplesPerPrompt,
                                   maxNewTokens: maxNewTokens, temperature: temperature)
        let batch = try rollout.collect(policy: policy, generator: &generator)
        for first in stride(from: 0, to: batch.rows, by: samplesPerPrompt) {
            let rows = (first..<(first + samplesPerPrompt)).filter {
                (try? codec.vocabulary.encode(batch.texts[$0])) != nil
            }
            groups.append(ScoredCompletionGroup(prompt: batch.prompts[first].prompt,
                                                completions: rows.map { batch.texts[$0] },
                                                rewards: rows.map { batch.rewards[$0] }))
        }
    }
    return groups
}
