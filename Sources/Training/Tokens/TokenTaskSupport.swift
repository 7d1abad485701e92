import Autograd
import Foundation
import NN
import Policies
import Randomness
import Tasks

/// Encoding of task prompts and completions for the token policy, batching of sequences for the
/// tape, and greedy evaluation — shared by the SFT, GRPO and DPO trainers.
public struct TokenTaskCodec: Sendable {
    public let vocabulary: Vocabulary
    public init(vocabulary: Vocabulary = .anchor) { self.vocabulary = vocabulary }

    /// BOS + the prompt's characters.
    public func encodePrompt(_ prompt: String) throws -> [Int] { try vocabulary.encode(prompt, addBOS: true) }

    /// The completion's characters + EOS.
    public func encodeCompletion(_ completion: String) throws -> [Int] { try vocabulary.encode(completion, addEOS: true) }

    /// Text of generated ids up to (not including) EOS.
    public func completionText(_ ids: [Int]) -> String { vocabulary.completionText(fromGenerated: ids) }
}

/// Right-padded prompt+completion sequences and the mask of completion tokens in next-token layout:
/// `completionMask[b·(T−1) + j]` = 1 when token j+1 of row b belongs to the completion.
public struct PaddedSequences {
    public var tokens: [Int]
    public var rows: Int
    public var time: Int
    public var completionMask: [Double]
    /// Next-token targets with −1 where the position is not a completion token (for cross-entropy).
    public var targets: [Int]
    /// Tokens of each row's prompt (the rows' first tokens).
    public var promptLengths: [Int]

    public init(prompts: [[Int]], completions: [[Int]], padID: Int) {
        rows = prompts.count
        time = max(2, zip(prompts, completions).map { $0.count + $1.count }.max() ?? 2)
        tokens = [Int](repeating: padID, count: rows * time)
        completionMask = [Double](repeating: 0, count: rows * (time - 1))
        targets = [Int](repeating: -1, count: rows * (time - 1))
        promptLengths = prompts.map(\.count)
        for b in 0..<rows {
            let sequence = prompts[b] + completions[b]
            for (t, token) in sequence.enumerated() { tokens[b * time + t] = token }
            for t in prompts[b].count..<sequence.count {
                completionMask[b * (time - 1) + t - 1] = 1
                targets[b * (time - 1) + t - 1] = sequence[t]
            }
        }
    }
}

/// Greedy evaluation on held-out prompts: exact match is a reward of 1 (TRL's anchor: "1.0 = exact").
public struct TokenEvaluation: Codable, Sendable, Equatable {
    public var exactMatch: Double
    public var meanReward: Double
    public var prompts: Int
}

enum TokenTaskEvaluation {
    /// Greedy completions for `prompts`, their exact-match rate and mean reward, and a few samples.
    static func evaluate(policy: TransformerPolicy, task: any SequenceTask, codec: TokenTaskCodec, prompts: [TaskPrompt],
                         maxNewTokens: Int, sampleCount: Int = 4) throws -> (TokenEvaluation, [GeneratedSample]) {
        var generator = SeededGenerator(seed: 0)
        var exact = 0.0, reward = 0.0
        var samples: [GeneratedSample] = []
        for start in stride(from: 0, to: prompts.count, by: 128) {
            let chunk = Array(prompts[start..<min(prompts.count, start + 128)])
            let encoded = try chunk.map { try codec.encodePrompt($0.prompt) }
            let completions = policy.sample(prompts: encoded, options: SamplingOptions(greedy: true, maxNewTokens: maxNewTokens, stopToken: codec.vocabulary.eosID), generator: &generator)
            for (prompt, completion) in zip(chunk, completions) {
                let text = codec.completionText(completion.tokens)
                let r = try task.reward(prompt: prompt.prompt, completion: text)
                reward += r
                // Exact = full reward, as TRL's anchor counts it (the first 6 sorted digits for `sort`).
                if r >= 1 - 1e-12 { exact += 1 }
                if samples.count < sampleCount { samples.append(GeneratedSample(prompt: prompt.prompt, completion: text, reward: r, logProbability: Double(completion.totalLogProbability))) }
            }
        }
        let n = Double(max(prompts.count, 1))
        return (TokenEvaluation(exactMatch: exact / n, meanReward: reward / n, prompts: prompts.count), samples)
    }

    /// Held-out prompts: from the task's held-out part (`PromptSplit`), which no training step can draw.
    static func heldOutPrompts(task: any SequenceTask, count: Int, seed: UInt64) -> [TaskPrompt] {
        var generator = SeededGenerator(seed: seed ^ 0x48E1_D0DD_5EED)
        return (0..<count).map { _ in task.makeHeldOutPrompt(using: &generator) }
    }
}
