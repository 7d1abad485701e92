import Foundation

/// A problem in a JSONL dataset file, located as `FILE:LINE: what is wrong`.
public struct DatasetFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    /// 1-based line number; 0 for problems with the file as a whole.
    public let line: Int
    public let problem: String

    public var description: String {
        let location = line > 0 ? "\(file):\(line)" : file
        return "\(location): \(problem) — fix the file and import again (nothing was imported)"
    }
}

/// TRL-style JSONL: one JSON object per line, with TRL's column names.
///
/// - preference: `{"prompt","chosen","rejected"}` (+ optional numeric `chosen_score`, `rejected_score`)
/// - prompt: `{"prompt"}` (+ optional `"reference"`)
/// - scored: `{"prompt","completion","reward"}`
///
/// Parsing is all-or-nothing: the first problem throws and no rows are returned.
/// Blank lines (only white space) are skipped; unknown extra keys are an error so typos do not pass silently.
public enum DatasetJSONL {
    /// Infers the dataset kind from a row's keys.
    static func inferKind(_ object: [String: JSONScalar]) -> DatasetKind? {
        if object["chosen"] != nil || object["rejected"] != nil { return .preference }
        if object["completion"] != nil || object["reward"] != nil { return .scored }
        if object["prompt"] != nil { return .prompt }
        return nil
    }

    static func allowedKeys(_ kind: DatasetKind) -> Set<String> {
        switch kind {
        case .prompt: ["prompt", "reference"]
        case .preference: ["prompt", "chosen", "rejected", "chosen_score", "rejected_score"]
        case .scored: ["prompt", "completion", "reward"]
        }
    }

    /// Parses a whole file's bytes. `kind` nil: inferred from the first row.
    public static func parse(_ data: [UInt8], file: String, kind requestedKind: DatasetKind? = nil) throws -> DatasetRows {
        var kind = requestedKind
        var prompts: [PromptRow] = []
        var pairs: [PreferencePair] = []
        var scored: [ScoredResponse] = []

        var lineNumber = 0
        var start = 0
        let count = data.count
        try data.withUnsafeBufferPointer { buffer in
            while start < count {
                lineNumber += 1
                var end = start
                while end < count && buffer[end] != 0x0A { end += 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                start = end + 1
                func failure(_ problem: String) -> DatasetFileError {
                    DatasetFileError(file: file, line: lineNumber, problem: problem)
                }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                guard String(validating: line, as: UTF8.self) != nil else {
                    throw failure("the line is not valid UTF-8 text")
                }
                let object: [String: JSONScalar]
                do throws(JSONLineError) {
                    object = try JSONLineParser.parseObject(line)
                } catch {
                    throw failure("malformed JSON: \(error.message)")
                }
                if kind == nil {
                    guard let inferred = inferKind(object) else {
                        throw failure("cannot tell the dataset kind: no \"prompt\" field (expected TRL's prompt, preference or scored columns)")
                    }
                    kind = inferred
                }
                guard let kind else { continue }
                let extra = Set(object.keys).subtracting(allowedKeys(kind))
                if let key = extra.sorted().first {
                    throw failure("unexpected field \"\(key)\" for a \(kind.rawValue) dataset (allowed: \(allowedKeys(kind).sorted().joined(separator: ", ")))")
                }
                func text(_ key: String, optional: Bool = false) throws -> String? {
                    guard let value = object[key], value != .null || !optional else {
                        if optional { return nil }
                        throw failure("missing field \"\(key)\" (a \(kind.rawValue) dataset needs \(requiredKeys(kind)))")
                    }
                    guard case .string(let string) = value else {
                        throw failure("field \"\(key)\" must be a string, found \(value.typeName)")
                    }
                    guard !string.isEmpty else { throw failure("field \"\(key)\" is an empty string") }
                    return string
                }
                func number(_ key: String, optional: Bool = false) throws -> Double? {
                    guard let value = object[key], value != .null || !optional else {
                        if optional { return nil }
                        throw failure("missing field \"\(key)\" (a \(kind.rawValue) dataset needs \(requiredKeys(kind)))")
                    }
                    guard case .number(let number) = value else {
                        throw failure("field \"\(key)\" must be a finite number, found \(value.typeName)")
                    }
                    return number
                }
                switch kind {
                case .prompt:
                    prompts.append(PromptRow(prompt: try text("prompt")!, reference: try text("reference", optional: true)))
                case .preference:
                    pairs.append(PreferencePair(
                        prompt: try text("prompt")!, chosen: try text("chosen")!, rejected: try text("rejected")!,
                        chosenScore: try number("chosen_score", optional: true),
                        rejectedScore: try number("rejected_score", optional: true)))
                case .scored:
                    scored.append(ScoredResponse(
                        prompt: try text("prompt")!, response: try text("completion")!, reward: try number("reward")!))
                }
            }
        }
        switch kind {
        case .prompt where !prompts.isEmpty: return .prompts(prompts)
        case .preference where !pairs.isEmpty: return .preferences(pairs)
        case .scored where !scored.isEmpty: return .scored(scored)
        default: throw DatasetFileError(file: file, line: 0, problem: "the file has no rows")
        }
    }

    static func requiredKeys(_ kind: DatasetKind) -> String {
        switch kind {
        case .prompt: "\"prompt\""
        case .preference: "\"prompt\", \"chosen\" and \"rejected\""
        case .scored: "\"prompt\", \"completion\" and \"reward\""
        }
    }

    /// Encodes rows as JSONL with TRL's key order; `parse(encode(rows))` gives back `rows` exactly.
    public static func encode(_ rows: DatasetRows) -> String {
        var out = ""
        func field(_ key: String, _ value: String) -> String { "\(JSONLineWriter.quoted(key)):\(value)" }
        switch rows {
        case .prompts(let prompts):
            for row in prompts {
                var fields = [field("prompt", JSONLineWriter.quoted(row.prompt))]
                if let reference = row.reference { fields.append(field("reference", JSONLineWriter.quoted(reference))) }
                out += "{" + fields.joined(separator: ",") + "}\n"
            }
        case .preferences(let pairs):
            for pair in pairs {
                var fields = [
                    field("prompt", JSONLineWriter.quoted(pair.prompt)),
                    field("chosen", JSONLineWriter.quoted(pair.chosen)),
                    field("rejected", JSONLineWriter.quoted(pair.rejected)),
                ]
                if let score = pair.chosenScore { fields.append(field("chosen_score", JSONLineWriter.number(score))) }
                if let score = pair.rejectedScore { fields.append(field("rejected_score", JSONLineWriter.number(score))) }
                out += "{" + fields.joined(separator: ",") + "}\n"
            }
        case .scored(let responses):
            for row in responses {
                out += "{" + [
                    field("prompt", JSONLineWriter.quoted(row.prompt)),
                    field("completion", JSONLineWriter.quoted(row.response)),
                    field("reward", JSONLineWriter.number(row.reward)),
                ].joined(separator: ",") + "}\n"
            }
        }
        return out
    }
}
