// `digitsum`: write a digit string whose digits sum to the target; shorter is better.
//
// A task whose reward is a preference rather than a single right answer. Prompt = the target in
// decimal then `=` (`17=`). Many completions are correct (`89`, `98`, `4553`, …); the shortest
// ones (⌈target / 9⌉ digits) score 1. Reward:
//   • empty, non-digit or longer than `maxCompletionLength`:  0
//   • digits sum to the target, length L:                      0.5 + 0.5 · ⌈target/9⌉ / L   ∈ (0.5, 1]
//   • digits sum to s ≠ target:                                0.4 · max(0, 1 − |s − target| / target)  < 0.5
// so every correct answer beats every wrong one, and among correct answers the shorter wins.
// The reference answer (for SFT) is a correct but usually longer string with digits drawn from
// `referenceDigitRange`: supervised learning teaches correctness, and only preferences (or RL)
// teach brevity.

import Randomness

public struct DigitSumTask: SequenceTask {
    /// Difficulty parameters.
    public struct Config: Sendable, Equatable, Codable {
        /// Target sums, drawn uniformly.
        public var targetRange: ClosedRange<Int> = 2...20
        /// Digits of reference answers, drawn uniformly (the last one is cut to what remains).
        public var referenceDigitRange: ClosedRange<Int> = 2...5
        /// Longest completion that earns any reward.
        public var maxLength: Int = 12

        public init(
            targetRange: ClosedRange<Int> = 2...20, referenceDigitRange: ClosedRange<Int> = 2...5, maxLength: Int = 12
        ) {
            self.targetRange = targetRange
            self.referenceDigitRange = referenceDigitRange
            self.maxLength = maxLength
        }
    }

    public let config: Config
    public var name: String { "digitsum" }
    public var description: String {
        let targets = "\(config.targetRange.lowerBound)–\(config.targetRange.upperBound)"
        return "write digits summing to the number before `=` (\(targets)); shorter is better"
    }
    public var maxCompletionLength: Int { config.maxLength }
    public var completionAlphabet: [Character] { Array("0123456789") }

    public init(config: Config = Config()) throws(TaskError) {
        guard config.targetRange.lowerBound >= 1 else {
            throw .invalidConfiguration(task: "digitsum",
                                        reason: "targets must be at least 1, got \(config.targetRange)")
        }
        guard config.referenceDigitRange.lowerBound >= 1, config.referenceDigitRange.upperBound <= 9 else {
            throw .invalidConfiguration(task: "digitsum",
                                        reason: "reference digits must lie in 1...9, got \(config.referenceDigitRange)")
        }
        // Longest reference: every digit at the range's minimum, plus one remainder digit.
        let longestReference = config.targetRange.upperBound / config.referenceDigitRange.lowerBound + 1
        guard config.maxLength >= longestReference else {
            throw .invalidConfiguration(task: "digitsum",
                                        reason: "max length \(config.maxLength) is shorter than the longest reference "
                                            + "answer (\(longestReference) digits)")
        }
        self.config = config
    }

    public func drawPrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        let target = config.targetRange.lowerBound + generator.nextInt(below: config.targetRange.count)
        var remaining = target
        var digits: [Int] = []
        while remaining > 0 {
            let digit = config.referenceDigitRange.lowerBound
                + generator.nextInt(below: config.referenceDigitRange.count)
            digits.append(min(digit, remaining))
            remaining -= digits[digits.count - 1]
        }
        return TaskPrompt(prompt: "\(target)=", reference: digits.map(String.init).joined())
    }

    /// The target sum of a well-formed prompt.
    public func targetSum(for prompt: String) throws(TaskError) -> Int {
        let body = prompt.dropLast()
        guard prompt.last == "=", !body.isEmpty, body.allSatisfy(\.isASCIIDigit), let value = Int(body),
              config.targetRange.contains(value)
        else {
            throw .malformedPrompt(task: name, prompt: prompt,
                                   expected: "a number in \(config.targetRange) then `=` (e.g. `17=`)")
        }
        return value
    }

    /// Digits needed at least: ⌈target / 9⌉.
    private func minimalLength(of target: Int) -> Int { (target + 8) / 9 }

    /// The shortest correct answer: the remainder first, then nines (17 → `89`).
    public func target(for prompt: String) throws(TaskError) -> String {
        let sum = try targetSum(for: prompt)
        let nines = sum / 9, remainder = sum % 9
        return (remainder > 0 ? String(remainder) : "") + String(repeating: "9", count: nines)
    }

    public func reward(prompt: String, completion: String) throws(TaskError) -> Double {
        let target = try targetSum(for: prompt)
        guard !completion.isEmpty, completion.count <= config.maxLength, completion.allSatisfy(\.isASCIIDigit) else {
            return 0
        }
        let sum = completion.reduce(0) { $0 + ($1.wholeNumberValue ?? 0) }
        if sum == target {
            return 0.5 + 0.5 * Double(minimalLength(of: target)) / Double(completion.count)
        }
        return 0.4 * max(0, 1 - Double(abs(sum - target)) / Double(target))
    }

    /// Correct and as short as possible.
    public func isExactMatch(prompt: String, completion: String) throws(TaskError) -> Bool {
        try reward(prompt: prompt, completion: completion) == 1
    }

    /// Half the time, a correct answer made one digit longer (a digit d ≥ 2 split into two that sum
    /// to d): still right, but worse — the brevity preference SFT does not teach. Otherwise one edit.
    public func nearMiss(of completion: String, prompt: String, using generator: inout SeededGenerator) -> String {
        var digits = completion.compactMap { $0.wholeNumberValue }
        let splittable = digits.indices.filter { digits[$0] >= 2 }
        if digits.count == completion.count, digits.count < config.maxLength, !splittable.isEmpty,
           generator.nextUniform() < 0.5 {
            let position = splittable[generator.nextInt(below: splittable.count)]
            let first = 1 + generator.nextInt(below: digits[position] - 1)
            let second = digits[position] - first
            digits[position] = first
            digits.insert(second, at: position + 1)
            return digits.map(String.init).joined()
        }
        return randomEdit(
            of: completion, alphabet: completionAlphabet, maxLength: maxCompletionLength, using: &generator)
    }
}
