import Policies
import Randomness
import Tasks

/// Greedy evaluation on held-out prompts: exact match is a reward of 1 (TRL's anchor: "1.0 = exact").
public struct TokenEvaluation: Codable, Sendable, Equatable {
    public var exactMatch: Double
    public var meanReward: Double
    public var prompts: Int

    /// The metrics every token trainer logs for an evaluation.
    var metrics: [String: Double] { ["eval/exact_match": exactMatch, "eval/reward": meanReward] }
}

/// The evaluator every token trainer calls: greedy completions (KV cache) of a fixed set of held-out
/// prompts, their exact-match rate and mean reward under the task's verifiable reward, and a few samples.
struct TokenEvaluator {
    let task: any SequenceTask
    let codec: TokenTaskCodec
    /// Held-out prompts: from the task's held-out part (`PromptSplit`), which no training step can draw.
    let prompts: [TaskPrompt]
    let maxNewTokens: Int

    init(task: any SequenceTask, codec: TokenTaskCodec, promptCount: Int, seed: UInt64, maxNewTokens: Int) {
        self.task = task
        self.codec = codec
        self.maxNewTokens = maxNewTokens
        var generator = SeededGenerator(seed: seed ^ 0x48E1_D0DD_5EED)
        prompts = (0..<promptCount).map { _ in task.makeHeldOutPrompt(using: &generator) }
    }

    /// `prompts`: held-out prompts given (a stored dataset's held-out rows).
    init(task: any SequenceTask, codec: TokenTaskCodec, prompts: [TaskPrompt], maxNewTokens: Int) {
        self.task = task
        self.codec = codec
        self.prompts = prompts
        self.maxNewTokens = maxNewTokens
    }

    /// Greedy completions of the held-out prompts in chunks of 128, scored; the first `sampleCount` as samples.
    /// `temperature` nil is greedy decoding (what training logs); a temperature samples, from `samplingSeed`.
    func evaluate(
        _ policy: TransformerPolicy, sampleCount: Int = 4, temperature: Float? = nil, samplingSeed: UInt64 = 0
    ) throws -> (TokenEvaluation, [GeneratedSample]) {
        var generator = SeededGenerator(seed: samplingSeed)
        var exact = 0.0, reward = 0.0
        var samples: [GeneratedSample] = []
        let options = SamplingOptions(
            temperature: temperature ?? 1, greedy: temperature == nil, maxNewTokens: maxNewTokens,
            stopToken: codec.vocabulary.eosID)
        for start in stride(from: 0, to: prompts.count, by: 128) {
            let chunk = Array(prompts[start..<min(prompts.count, start + 128)])
            let encoded = try chunk.map { try codec.encodePrompt($0.prompt) }
            let completions = policy.sample(prompts: encoded, options: options, generator: &generator)
            for (prompt, completion) in zip(chunk, completions) {
                let text = codec.completionText(completion.tokens)
                let r = try task.reward(prompt: prompt.prompt, completion: text)
                reward += r
                // Exact = full reward, as TRL's anchor counts it (the first 6 sorted digits for `sort`).
                if r >= 1 - 1e-12 { exact += 1 }
                if samples.count < sampleCount {
                    samples.append(GeneratedSample(
                        prompt: prompt.prompt, completion: text, reward: r,
                        logProbability: Double(completion.totalLogProbability), source: .evaluation,
                        length: completion.tokens.count, truncated: codec.isTruncated(completion.tokens)))
                }
            }
        }
        let n = Double(max(prompts.count, 1))
        return (TokenEvaluation(exactMatch: exact / n, meanReward: reward / n, prompts: prompts.count), samples)
    }
}
