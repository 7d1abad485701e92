// `addition`: write the decimal sum of two numbers.
//
// The anchor vocabulary has no `+`, so the operands are separated by `|`: prompt `47|385=`,
// target `432`. Reward = fraction of digit positions, aligned from the right (units with units),
// equal to the target's, over the longer of completion and target — the credit a column-wise
// adder earns for each column it gets right.

import Randomness

public struct AdditionTask: SequenceTask {
    /// Difficulty parameters.
    public struct Config: Sendable, Equatable, Codable {
        /// Number of digits of each operand, drawn uniformly per operand (no leading zeros).
        public var operandDigits: ClosedRange<Int> = 1...3

        public init(operandDigits: ClosedRange<Int> = 1...3) {
            self.operandDigits = operandDigits
        }
    }

    public let config: Config
    public var name: String { "addition" }
    public var description: String {
        let digits = "\(config.operandDigits.lowerBound)–\(config.operandDigits.upperBound)"
        return "add the two \(digits)-digit numbers in `a|b=` (`|` stands for `+`)"
    }
    public var maxCompletionLength: Int { config.operandDigits.upperBound + 1 }
    public var completionAlphabet: [Character] { Array("0123456789") }

    public init(config: Config = Config()) throws(TaskError) {
        guard config.operandDigits.lowerBound >= 1, config.operandDigits.upperBound <= 17 else {
            throw .invalidConfiguration(task: "addition",
                                        reason: "operand digits must lie in 1...17, got \(config.operandDigits)")
        }
        self.config = config
    }

    /// A number with a uniformly drawn digit count; one-digit operands include 0, longer ones have no leading zero.
    private func randomOperand(using generator: inout SeededGenerator) -> Int {
        let digits = config.operandDigits.lowerBound + generator.nextInt(below: config.operandDigits.count)
        var powerOfTen = 1
        for _ in 1..<digits { powerOfTen *= 10 }
        let smallest = digits == 1 ? 0 : powerOfTen
        return smallest + generator.nextInt(below: powerOfTen * 10 - smallest)
    }

    public func drawPrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        let left = randomOperand(using: &generator)
        let right = randomOperand(using: &generator)
        return TaskPrompt(prompt: "\(left)|\(right)=", reference: String(left + right))
    }

    /// The sum of a well-formed prompt's operands.
    public func target(for prompt: String) throws(TaskError) -> String {
        let malformed = TaskError.malformedPrompt(
            task: name, prompt: prompt, expected: "`a|b=` with \(config.operandDigits)-digit numbers (e.g. `47|385=`)")
        guard prompt.last == "=" else { throw malformed }
        let parts = prompt.dropLast().split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw malformed }
        var sum = 0
        for part in parts {
            guard config.operandDigits.contains(part.count), part.allSatisfy(\.isASCIIDigit),
                  let value = Int(part), part.count == 1 || part.first != "0"
            else { throw malformed }
            sum += value
        }
        return String(sum)
    }

    public func reward(prompt: String, completion: String) throws(TaskError) -> Double {
        positionalMatchFraction(completion: completion, target: try target(for: prompt), rightAligned: true)
    }

    public func isExactMatch(prompt: String, completion: String) throws(TaskError) -> Bool {
        try completion == target(for: prompt)
    }
}

extension Character {
    /// `0`–`9` only (not other Unicode digits).
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
