// `copy` and `reverse`: write the prompt's symbols back unchanged, or in reverse order.
//
// Prompt = a random string of digits or letters a–p, then `=` (`ab3`-style mixing is not used:
// one alphabet per configuration). Reward = fraction of positions equal to the target, counted
// over the longer of completion and target, so missing and extra characters both cost credit.

import Randomness

/// The symbols a copy/reverse prompt is drawn from.
public enum SymbolAlphabet: String, Sendable, Codable, CaseIterable {
    /// `0`–`9`.
    case digits
    /// `a`–`p` (the letters of the anchor vocabulary).
    case letters

    public var characters: [Character] {
        switch self {
        case .digits: Array("0123456789")
        case .letters: Array("abcdefghijklmnop")
        }
    }
}

public struct TransformTask: SequenceTask {
    /// What the completion does to the prompt's symbols.
    public enum Transform: String, Sendable, Codable {
        case copy
        case reverse
    }

    /// Difficulty parameters.
    public struct Config: Sendable, Equatable, Codable {
        /// Prompt length in symbols, drawn uniformly from this range.
        public var lengthRange: ClosedRange<Int> = 3...6
        /// Symbols drawn uniformly, with repetition.
        public var alphabet: SymbolAlphabet = .digits

        public init(lengthRange: ClosedRange<Int> = 3...6, alphabet: SymbolAlphabet = .digits) {
            self.lengthRange = lengthRange
            self.alphabet = alphabet
        }
    }

    public let transform: Transform
    public let config: Config
    public var name: String { transform.rawValue }
    public var description: String {
        let verb = transform == .copy ? "copy" : "reverse"
        let lengths = "\(config.lengthRange.lowerBound)–\(config.lengthRange.upperBound)"
        return "\(verb) the \(lengths) \(config.alphabet.rawValue) before `=`"
    }
    public var maxCompletionLength: Int { config.lengthRange.upperBound }
    public var completionAlphabet: [Character] { config.alphabet.characters }

    public init(_ transform: Transform, config: Config = Config()) throws(TaskError) {
        guard config.lengthRange.lowerBound >= 1 else {
            throw .invalidConfiguration(task: transform.rawValue,
                                        reason: "lengths must be at least 1, got \(config.lengthRange)")
        }
        self.transform = transform
        self.config = config
    }

    public func drawPrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        let length = config.lengthRange.lowerBound + generator.nextInt(below: config.lengthRange.count)
        let symbols = completionAlphabet
        let text = String((0..<length).map { _ in symbols[generator.nextInt(below: symbols.count)] })
        return TaskPrompt(prompt: text + "=", reference: apply(to: text))
    }

    private func apply(to text: String) -> String {
        transform == .copy ? text : String(text.reversed())
    }

    /// The copied or reversed symbols of a well-formed prompt.
    public func target(for prompt: String) throws(TaskError) -> String {
        let characters = Array(prompt)
        let allowed = Set(completionAlphabet)
        let body = characters.dropLast()
        guard characters.last == "=", config.lengthRange.contains(body.count), body.allSatisfy({ allowed.contains($0) })
        else {
            throw .malformedPrompt(task: name, prompt: prompt,
                                   expected: "\(config.lengthRange) \(config.alphabet.rawValue) then `=`")
        }
        return apply(to: String(body))
    }

    public func reward(prompt: String, completion: String) throws(TaskError) -> Double {
        positionalMatchFraction(completion: completion, target: try target(for: prompt))
    }

    public func isExactMatch(prompt: String, completion: String) throws(TaskError) -> Bool {
        try completion == target(for: prompt)
    }
}
