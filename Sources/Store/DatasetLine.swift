/// Any JSON value: how a column that PolicyLab does not know is held, and how a wrongly typed one is named.
///
/// Decoded through `JSONDecoder` like every other field. Only unknown columns and error messages use it,
/// so the common path (known string and number columns) never tries several types in turn.
public enum JSONValue: Equatable, Sendable, Codable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            // Last, and not under `try?`: a number that does not fit a Double (1e999) is malformed, not absent.
            self = .number(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// "a string", "a number", …: for messages such as `field "reward" must be a number, found a string`.
    var typeName: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// One line of a TRL-style JSONL file, decoded by `JSONDecoder`: the columns PolicyLab knows, each typed,
/// and every other column kept as a `JSONValue` under its name.
///
/// Which columns a row needs depends on the dataset's kind, so every known column is optional here and
/// `DatasetJSONL` checks the combination. The other columns (an id, a source, UltraFeedback's `messages`)
/// are kept as they are and stored per row, so an export gives them back.
struct DatasetLine: Codable, Sendable {
    /// TRL's column names, as they appear in the file.
    enum Column: String, CaseIterable {
        case prompt, reference, chosen, rejected, completion, reward
        case chosenScore = "chosen_score"
        case rejectedScore = "rejected_score"
        /// UltraFeedback's names for the same two scores.
        case scoreChosen = "score_chosen"
        case scoreRejected = "score_rejected"
        /// KTO's unpaired rows: true for a desirable completion, false for an undesirable one.
        case label
    }

    /// A set of columns as bits: a `Set` would allocate for every line of a 100k-row import.
    struct Columns: Equatable, Sendable {
        private var bits: UInt16 = 0
        init(_ columns: [Column] = []) { for column in columns { insert(column) } }
        private static func bit(_ column: Column) -> UInt16 {
            1 << UInt16(Column.allCases.firstIndex(of: column) ?? 0)
        }
        mutating func insert(_ column: Column) { bits |= Self.bit(column) }
        func contains(_ column: Column) -> Bool { bits & Self.bit(column) != 0 }
        /// The members not in `other`, in `Column`'s order.
        func subtracting(_ other: Columns) -> [Column] {
            Column.allCases.filter { contains($0) && !other.contains($0) }
        }
    }

    /// Any key of the line's object: `Column`'s raw values and whatever else the file holds.
    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        init(_ column: Column) { stringValue = column.rawValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// A known column holding the wrong type of value, e.g. a number where TRL puts text.
    struct WrongType: Error {
        let column: Column
        let found: JSONValue
    }

    var prompt: String?
    var reference: String?
    var chosen: String?
    var rejected: String?
    var completion: String?
    var reward: Double?
    var chosenScore: Double?
    var rejectedScore: Double?
    /// `score_chosen` / `score_rejected` (UltraFeedback), kept apart from `chosen_score` so a row that
    /// gives both is refused and an export writes the names the file used.
    var scoreChosen: Double?
    var scoreRejected: Double?
    var label: Bool?
    /// The keys of the line's object that are known columns (null ones included), to check them against the kind.
    var presentColumns = Columns()
    /// Every column that is not one of `Column`, by name.
    var otherColumns: [String: JSONValue] = [:]

    init(
        prompt: String? = nil, reference: String? = nil, chosen: String? = nil, rejected: String? = nil,
        completion: String? = nil, reward: Double? = nil, chosenScore: Double? = nil, rejectedScore: Double? = nil,
        scoreChosen: Double? = nil, scoreRejected: Double? = nil, label: Bool? = nil,
        otherColumns: [String: JSONValue] = [:]
    ) {
        self.prompt = prompt
        self.reference = reference
        self.chosen = chosen
        self.rejected = rejected
        self.completion = completion
        self.reward = reward
        self.chosenScore = chosenScore
        self.rejectedScore = rejectedScore
        self.scoreChosen = scoreChosen
        self.scoreRejected = scoreRejected
        self.label = label
        self.otherColumns = otherColumns
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            guard let column = Column(rawValue: key.stringValue) else {
                otherColumns[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
                continue
            }
            presentColumns.insert(column)
            switch column {
            case .prompt: prompt = try Self.text(column, in: container)
            case .reference: reference = try Self.text(column, in: container)
            case .chosen: chosen = try Self.text(column, in: container)
            case .rejected: rejected = try Self.text(column, in: container)
            case .completion: completion = try Self.text(column, in: container)
            case .reward: reward = try Self.number(column, in: container)
            case .chosenScore: chosenScore = try Self.number(column, in: container)
            case .rejectedScore: rejectedScore = try Self.number(column, in: container)
            case .scoreChosen: scoreChosen = try Self.number(column, in: container)
            case .scoreRejected: scoreRejected = try Self.number(column, in: container)
            case .label: label = try Self.boolean(column, in: container)
            }
        }
    }

    /// The value of a text column (nil for the numeric ones).
    func text(_ column: Column) -> String? {
        switch column {
        case .prompt: prompt
        case .reference: reference
        case .chosen: chosen
        case .rejected: rejected
        case .completion: completion
        case .reward, .chosenScore, .rejectedScore, .scoreChosen, .scoreRejected, .label: nil
        }
    }

    /// Writes the known columns that hold a value, then the other columns (a round trip keeps them).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(prompt, forKey: Key(.prompt))
        try container.encodeIfPresent(reference, forKey: Key(.reference))
        try container.encodeIfPresent(chosen, forKey: Key(.chosen))
        try container.encodeIfPresent(rejected, forKey: Key(.rejected))
        try container.encodeIfPresent(completion, forKey: Key(.completion))
        try container.encodeIfPresent(reward, forKey: Key(.reward))
        try container.encodeIfPresent(chosenScore, forKey: Key(.chosenScore))
        try container.encodeIfPresent(rejectedScore, forKey: Key(.rejectedScore))
        try container.encodeIfPresent(scoreChosen, forKey: Key(.scoreChosen))
        try container.encodeIfPresent(scoreRejected, forKey: Key(.scoreRejected))
        try container.encodeIfPresent(label, forKey: Key(.label))
        for (name, value) in otherColumns { try container.encode(value, forKey: Key(stringValue: name)) }
    }

    private static func text(_ column: Column, in container: KeyedDecodingContainer<Key>) throws -> String? {
        do {
            return try container.decodeIfPresent(String.self, forKey: Key(column))
        } catch DecodingError.typeMismatch {
            throw WrongType(column: column, found: try container.decode(JSONValue.self, forKey: Key(column)))
        }
    }

    private static func boolean(_ column: Column, in container: KeyedDecodingContainer<Key>) throws -> Bool? {
        do {
            return try container.decodeIfPresent(Bool.self, forKey: Key(column))
        } catch DecodingError.typeMismatch {
            throw WrongType(column: column, found: try container.decode(JSONValue.self, forKey: Key(column)))
        }
    }

    private static func number(_ column: Column, in container: KeyedDecodingContainer<Key>) throws -> Double? {
        do {
            return try container.decodeIfPresent(Double.self, forKey: Key(column))
        } catch DecodingError.typeMismatch {
            throw WrongType(column: column, found: try container.decode(JSONValue.self, forKey: Key(column)))
        }
    }
}
