/// The kinds of dataset PolicyLab stores, in TRL's column vocabulary.
///
/// Every row also keeps the file's other columns (`extra`: an id, a source, UltraFeedback's `messages`),
/// stored as JSON and written back by an export.
public enum DatasetKind: String, Codable, Sendable, CaseIterable {
    /// `{"prompt"}` with an optional `"reference"` answer.
    case prompt
    /// `{"prompt","chosen","rejected"}` with optional scores.
    case preference
    /// `{"prompt","completion","reward"}`.
    case scored
    /// `{"prompt","completion","label"}`: TRL's unpaired preference format (KTO), label true = desirable.
    case unpaired
}

/// The columns of a row that PolicyLab does not use, by name, exactly as the file gave them.
public typealias ExtraColumns = [String: JSONValue]

/// A prompt with an optional reference answer (SFT targets, evaluation).
public struct PromptRow: Equatable, Sendable, Codable {
    public var prompt: String
    public var reference: String?
    public var extra: ExtraColumns
    public init(prompt: String, reference: String? = nil, extra: ExtraColumns = [:]) {
        self.prompt = prompt
        self.reference = reference
        self.extra = extra
    }
}

/// A preference pair: `chosen` is preferred over `rejected` for `prompt`.
public struct PreferencePair: Equatable, Sendable, Codable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var chosenScore: Double?
    public var rejectedScore: Double?
    /// Which names the scores had in the file (an export writes the same ones).
    public var scoreNames: ScoreColumnNames
    public var extra: ExtraColumns
    public init(
        prompt: String, chosen: String, rejected: String, chosenScore: Double? = nil, rejectedScore: Double? = nil,
        scoreNames: ScoreColumnNames = .policyLab, extra: ExtraColumns = [:]
    ) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.chosenScore = chosenScore
        self.rejectedScore = rejectedScore
        self.scoreNames = scoreNames
        self.extra = extra
    }
}

/// The two spellings of a preference pair's scores that PolicyLab reads.
public enum ScoreColumnNames: String, Codable, Sendable {
    /// `chosen_score`, `rejected_score`.
    case policyLab = "chosen_score"
    /// `score_chosen`, `score_rejected` (UltraFeedback, as TRL's docs show it).
    case ultraFeedback = "score_chosen"
}

/// A response to a prompt with its scalar reward.
public struct ScoredResponse: Equatable, Sendable, Codable {
    public var prompt: String
    public var response: String
    public var reward: Double
    public var extra: ExtraColumns
    public init(prompt: String, response: String, reward: Double, extra: ExtraColumns = [:]) {
        self.prompt = prompt
        self.response = response
        self.reward = reward
        self.extra = extra
    }
}

/// An unpaired completion (TRL's KTO format): `label` true when the completion is desirable.
public struct UnpairedCompletion: Equatable, Sendable, Codable {
    public var prompt: String
    public var completion: String
    public var label: Bool
    public var extra: ExtraColumns
    public init(prompt: String, completion: String, label: Bool, extra: ExtraColumns = [:]) {
        self.prompt = prompt
        self.completion = completion
        self.label = label
        self.extra = extra
    }
}

/// The rows of one dataset, all of one kind.
public enum DatasetRows: Equatable, Sendable {
    case prompts([PromptRow])
    case preferences([PreferencePair])
    case scored([ScoredResponse])
    case unpaired([UnpairedCompletion])

    public var kind: DatasetKind {
        switch self {
        case .prompts: .prompt
        case .preferences: .preference
        case .scored: .scored
        case .unpaired: .unpaired
        }
    }

    public var count: Int {
        switch self {
        case .prompts(let rows): rows.count
        case .preferences(let rows): rows.count
        case .scored(let rows): rows.count
        case .unpaired(let rows): rows.count
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
