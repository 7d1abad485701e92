// The contract every toy sequence task meets: a seeded prompt generator, a reference answer for
// supervised fine-tuning and a verifiable reward for RL and preference synthesis.
//
// A completion is the generated text up to, not including, EOS (`Vocabulary.completionText`).
// Rewards lie in [0, 1]; 1 means the completion is as good as the task allows.

import Randomness

/// One prompt with the answer a supervised learner should imitate.
public struct TaskPrompt: Sendable, Equatable, Codable {
    public var prompt: String
    public var reference: String

    public init(prompt: String, reference: String) {
        self.prompt = prompt
        self.reference = reference
    }
}

/// A toy task over `Vocabulary.anchor`'s characters.
public protocol SequenceTask: Sendable {
    /// Registry name (`sort`, `reverse`, …).
    var name: String { get }
    /// One sentence saying what the policy must write.
    var description: String { get }
    /// Longest completion, in characters before EOS, the task ever needs; generation budgets use it.
    var maxCompletionLength: Int { get }
    /// Characters a completion is made of (used to build near misses).
    var completionAlphabet: [Character] { get }

    /// A fresh prompt and its reference answer, drawn from `generator` from the task's whole prompt
    /// space. Callers use `makePrompt` (training prompts only) or `makeHeldOutPrompt` (`PromptSplit`).
    func drawPrompt(using generator: inout SeededGenerator) -> TaskPrompt
    /// A completion with reward 1 for `prompt` (for most tasks the unique right answer; the reference
    /// answer of `drawPrompt` may differ where several answers are right). Throws for a malformed prompt.
    func target(for prompt: String) throws(TaskError) -> String
    /// Reward in [0, 1] of `completion` for `prompt`. Throws `TaskError.malformedPrompt` when the
    /// prompt is not one this task (with its configuration) produces.
    func reward(prompt: String, completion: String) throws(TaskError) -> Double
    /// True when `completion` is a perfect answer to `prompt`.
    func isExactMatch(prompt: String, completion: String) throws(TaskError) -> Bool
    /// A completion close to `completion` that should score lower (used for preference pairs).
    func nearMiss(of completion: String, prompt: String, using generator: inout SeededGenerator) -> String
}

extension SequenceTask {
    /// Default near miss: one edit (substitute, delete or insert one character from the alphabet).
    public func nearMiss(of completion: String, prompt: String, using generator: inout SeededGenerator) -> String {
        randomEdit(of: completion, alphabet: completionAlphabet, maxLength: maxCompletionLength, using: &generator)
    }
}

/// One random edit of `text`: substitute one character by a different one, delete one, or insert one
/// (insertions only while the text is shorter than `maxLength`).
func randomEdit(
    of text: String, alphabet: [Character], maxLength: Int, using generator: inout SeededGenerator
) -> String {
    precondition(alphabet.count >= 2, "randomEdit needs at least two characters to substitute, got \(alphabet)")
    var characters = Array(text)
    let canInsert = characters.count < maxLength
    let canChange = !characters.isEmpty
    let kinds = (canChange ? [0, 1] : []) + (canInsert ? [2] : [])
    guard !kinds.isEmpty else { return text }
    switch kinds[generator.nextInt(below: kinds.count)] {
    case 0:
        let position = generator.nextInt(below: characters.count)
        let others = alphabet.filter { $0 != characters[position] }
        characters[position] = others[generator.nextInt(below: others.count)]
    case 1:
        characters.remove(at: generator.nextInt(below: characters.count))
    default:
        let position = generator.nextInt(below: characters.count + 1)
        characters.insert(alphabet[generator.nextInt(below: alphabet.count)], at: position)
    }
    return String(characters)
}

/// Fraction of aligned positions where `completion` equals `target`, over the longer of the two
/// (so both missing and extra characters cost credit). Left-aligned, or right-aligned for numbers.
func positionalMatchFraction(completion: String, target: String, rightAligned: Bool = false) -> Double {
    var produced = Array(completion), expected = Array(target)
    if rightAligned {
        produced.reverse()
        expected.reverse()
    }
    let denominator = max(produced.count, expected.count)
    guard denominator > 0 else { return 1 }
    var matches = 0
    for index in 0..<min(produced.count, expected.count) where produced[index] == expected[index] { matches += 1 }
    return Double(matches) / Double(denominator)
}

/// A problem with a task name, a prompt or a task configuration.
public enum TaskError: Error, Equatable, CustomStringConvertible {
    case unknownTask(String, available: [String])
    case malformedPrompt(task: String, prompt: String, expected: String)
    case invalidConfiguration(task: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownTask(name, available):
            return "no task named \"\(name)\" — use one of: \(available.joined(separator: ", "))"
        case let .malformedPrompt(task, prompt, expected):
            return "prompt \"\(prompt)\" is not a \(task) prompt — \(task) prompts look like \(expected); "
                + "check the dataset's task or regenerate it with `policylab data generate --task \(task)`"
        case let .invalidConfiguration(task, reason):
            return "invalid \(task) configuration: \(reason) — fix the parameter and try again"
        }
    }
}
