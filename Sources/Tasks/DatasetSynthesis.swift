// Synthetic datasets for supervised fine-tuning (prompt + reference) and for DPO (preference pairs).
//
// Preference pairs follow the shape of TRL's preference datasets ({"prompt","chosen","rejected"})
// with the verifiable scores kept alongside. Two kinds are mixed half and half:
//   • a perfect answer (`target(for:)`) against a near miss of it (`nearMiss(of:)`);
//   • two imperfect answers (1–3 random edits of the reference each) with different rewards.
// Chosen always scores strictly higher than rejected; ties are redrawn.

import Randomness

/// One DPO training example with the task's verifiable rewards of both completions.
public struct ScoredPreferencePair: Sendable, Equatable, Codable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var chosenScore: Double
    public var rejectedScore: Double

    public init(prompt: String, chosen: String, rejected: String, chosenScore: Double, rejectedScore: Double) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.chosenScore = chosenScore
        self.rejectedScore = rejectedScore
    }
}

/// `count` prompts with their reference answers.
public func makePromptDataset(
    task: any SequenceTask, count: Int, using generator: inout SeededGenerator
) -> [TaskPrompt] {
    precondition(count >= 0, "makePromptDataset needs a non-negative count, got \(count)")
    return (0..<count).map { _ in task.makePrompt(using: &generator) }
}

/// `count` preference pairs with `chosenScore > rejectedScore`, half perfect-vs-near-miss and half
/// imperfect-vs-imperfect (see the file header).
public func makePreferencePairs(
    task: any SequenceTask, count: Int, using generator: inout SeededGenerator
) -> [ScoredPreferencePair] {
    precondition(count >= 0, "makePreferencePairs needs a non-negative count, got \(count)")
    var pairs: [ScoredPreferencePair] = []
    pairs.reserveCapacity(count)
    var promptsWithoutPair = 0
    while pairs.count < count {
        let example = task.makePrompt(using: &generator)
        let wantsPerfect = generator.nextUniform() < 0.5
        // A prompt whose attempts keep tying is dropped and a new one drawn; 20 tries make that rare.
        var found = false
        for _ in 0..<20 where !found {
            if let pair = drawPair(
                task: task, example: example, perfectVersusNearMiss: wantsPerfect, using: &generator) {
                pairs.append(pair)
                found = true
            }
        }
        promptsWithoutPair = found ? 0 : promptsWithoutPair + 1
        precondition(promptsWithoutPair < 1_000,
                     "task \(task.name): 1,000 prompts in a row gave only tied completions; "
                        + "its reward cannot rank near misses")
    }
    return pairs
}

/// One candidate pair, or nil when the two completions tie.
private func drawPair(
    task: any SequenceTask, example: TaskPrompt, perfectVersusNearMiss: Bool, using generator: inout SeededGenerator
) -> ScoredPreferencePair? {
    let first: String, second: String
    // Prompts come from the task itself, so scoring cannot meet a malformed prompt.
    guard let perfect = try? task.target(for: example.prompt) else {
        preconditionFailure("task \(task.name) rejected its own prompt \"\(example.prompt)\"")
    }
    if perfectVersusNearMiss {
        first = perfect
        second = task.nearMiss(of: perfect, prompt: example.prompt, using: &generator)
    } else {
        first = randomEdits(of: example.reference, task: task, prompt: example.prompt, using: &generator)
        second = randomEdits(of: example.reference, task: task, prompt: example.prompt, using: &generator)
    }
    guard let firstScore = try? task.reward(prompt: example.prompt, completion: first),
          let secondScore = try? task.reward(prompt: example.prompt, completion: second)
    else { preconditionFailure("task \(task.name) rejected its own prompt \"\(example.prompt)\"") }
    if firstScore == secondScore { return nil }
    return firstScore > secondScore
        ? ScoredPreferencePair(prompt: example.prompt, chosen: first, rejected: second,
                               chosenScore: firstScore, rejectedScore: secondScore)
        : ScoredPreferencePair(prompt: example.prompt, chosen: second, rejected: first,
                               chosenScore: secondScore, rejectedScore: firstScore)
}

/// 1–3 successive near-miss edits of `text`.
private func randomEdits(
    of text: String, task: any SequenceTask, prompt: String, using generator: inout SeededGenerator
) -> String {
    var edited = text
    for _ in 0...generator.nextInt(below: 3) { edited = task.nearMiss(of: edited, prompt: prompt, using: &generator) }
    return edited
}
