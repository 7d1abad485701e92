/// The three kinds of dataset PolicyLab stores, in TRL's column vocabulary.
public enum DatasetKind: String, Codable, Sendable, CaseIterable {
    /// `{"prompt"}` with an optional `"reference"` answer.
    case prompt
    /// `{"prompt","chosen","rejected"}` with optional scores.
    case preference
    /// `{"prompt","completion","reward"}`.
    case scored
}

/// A prompt with an optional reference answer (SFT targets, evaluation).
public struct PromptRow: Equatable, Sendable, Codable {
    public var prompt: String
    public var reference: String?
    public init(prompt: String, reference: String? = nil) {
        self.prompt = prompt
        self.reference = reference
    }
}

/// A preference pair: `chosen` is preferred over `rejected` for `prompt`.
public struct PreferencePair: Equatable, Sendable, Codable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var chosenScore: Double?
    public var rejectedScore: Double?
    public init(
        prompt: String, chosen: String, rejected: String, chosenScore: Double? = nil, rejectedScore: Double? = nil
    ) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.chosenScore = chosenScore
        self.rejectedScore = rejectedScore
    }
}

/// A response to a prompt with its scalar reward.
public struct ScoredResponse: Equatable, Sendable, Codable {
    public var prompt: String
    public var response: String
    public var reward: Double
    public init(prompt: String, response: String, reward: Double) {
        self.prompt = prompt
        self.response = response
        self.reward = reward
    }
}

/// The rows of one dataset, all of one kind.
public enum DatasetRows: Equatable, Sendable {
    case prompts([PromptRow])
    case preferences([PreferencePair])
    case scored([ScoredResponse])

    public var kind: DatasetKind {
        switch self {
        case .prompts: .prompt
        case .preferences: .preference
        case .scored: .scored
        }
    }

    public var count: Int {
        switch self {
        case .prompts(let rows): rows.count
        case .preferences(let rows): rows.count
        case .scored(let rows): rows.count
        }
    }
}

/// A dataset's catalogue entry.
public struct DatasetInfo: Equatable, Sendable, Codable {
    public var id: Int64
    public var name: String
    public var kind: DatasetKind
    public var task: String?
    public var source: String?
    public var createdAt: Double
    public var rowCount: Int
}
