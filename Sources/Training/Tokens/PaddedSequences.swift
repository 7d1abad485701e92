/// Right-padded prompt+completion sequences and the mask of completion tokens in next-token layout:
/// `completionMask[b·(T−1) + j]` = 1 when token j+1 of row b belongs to the completion. The padding every
/// token trainer but token PPO (which pads responses to a fixed width, as TRL 1.9) uses.
public struct PaddedSequences {
    /// (B, T) token ids, row-major.
    public var tokens: [Int]
    /// B.
    public var rows: Int
    /// T: the longest prompt + completion (at least 2, so that one token is predicted).
    public var time: Int
    /// (B, T−1): 1 where the predicted token belongs to the completion.
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

    /// Completion tokens in the batch (Σ of the mask).
    public var completionTokens: Int { Int(completionMask.reduce(0, +)) }
}
