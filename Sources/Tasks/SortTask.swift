// `sort`: write the prompt's digits in ascending order.
//
// Reference: TRL's anchor toy task, whose setting is this task's default: prompt = 6 random digits
// in 0–5 followed by `=` (`315204=`), target = the digits sorted (`012345`), reward = fraction of
// the first 6 generated tokens equal to the target's token at the same position. A shorter
// completion scores only the positions it has; characters after the sixth are not looked at
// (as in the anchor), but `isExactMatch` requires the completion to equal the target.

import Randomness

public struct SortTask: SequenceTask {
    /// Difficulty parameters.
    public struct Config: Sendable, Equatable, Codable {
        /// Number of digits in the prompt (anchor: 6).
        public var length: Int = 6
        /// Digits are drawn uniformly, with repetition, from this range (anchor: 0...5; at most 0...9).
        public var digitRange: ClosedRange<Int> = 0...5

        public init(length: Int = 6, digitRange: ClosedRange<Int> = 0...5) {
            self.length = length
            self.digitRange = digitRange
        }
    }

    public let config: Config
    public var name: String { "sort" }
    public var description: String {
        let digits = "\(config.digitRange.lowerBound)–\(config.digitRange.upperBound)"
        return "sort the \(config.length) digits (\(digits)) before `=` ascending"
    }
    public var maxCompletionLength: Int { config.length }
    public var completionAlphabet: [Character] { config.digitRange.map { Character(String($0)) } }

    public init(config: Config = Config()) throws(TaskError) {
        guard config.length >= 1 else {
            throw .invalidConfiguration(task: "sort", reason: "length must be at least 1, got \(config.length)")
        }
        guard config.digitRange.lowerBound >= 0, config.digitRange.upperBound <= 9, config.digitRange.count >= 2 else {
            throw .invalidConfiguration(
                task: "sort", reason: "digit range must be two or more digits within 0...9, got \(config.digitRange)")
        }
        self.config = config
    }

    public func drawPrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        let digits = (0..<config.length).map { _ in
            config.digitRange.lowerBound + generator.nextInt(below: config.digitRange.count)
        }
        let text = digits.map(String.init).joined()
        return TaskPrompt(prompt: text + "=", reference: digits.sorted().map(String.init).joined())
    }

    /// The sorted digits of a well-formed prompt.
    public func target(for prompt: String) throws(TaskError) -> String {
        let characters = Array(prompt)
        let allowed = Set(completionAlphabet)
        guard characters.count == config.length + 1, characters.last == "=",
              characters.dropLast().allSatisfy({ allowed.contains($0) })
        else {
            throw .malformedPrompt(task: name, prompt: prompt,
                                   expected: "\(config.length) digits in \(config.digitRange) then `=` "
                                       + "(e.g. `315204=`)")
        }
        return String(characters.dropLast().sorted())
    }

    public func reward(prompt: String, completion: String) throws(TaskError) -> Double {
        let expected = Array(try target(for: prompt))
        let produced = Array(completion.prefix(config.length))
        var matches = 0
        for index in 0..<produced.count where produced[index] == expected[index] { matches += 1 }
        return Double(matches) / Double(config.length)
    }

    public func isExactMatch(prompt: String, completion: String) throws(TaskError) -> Bool {
        try completion == target(for: prompt)
    }
}
