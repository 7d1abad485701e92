import Foundation
import Synchronization

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
/// - preference: `{"prompt","chosen","rejected"}` (+ optional numeric `chosen_score`, `rejected_score`, or
///   UltraFeedback's `score_chosen`, `score_rejected`)
/// - prompt: `{"prompt"}` (+ optional `"reference"`)
/// - scored: `{"prompt","completion","reward"}`
/// - unpaired (KTO): `{"prompt","completion","label"}`, label a boolean
///
/// Each line goes through `JSONDecoder` into a `DatasetLine`; this type checks that the line's columns fit
/// the dataset's kind. Parsing is all-or-nothing: the first problem throws and no rows are returned.
/// Blank lines (only white space) are skipped. Columns PolicyLab does not know are kept per row (`extra`)
/// and exported back; a known column of another kind (a `reward` in a preference file) is an error, since it
/// means the file mixes kinds. Text outside the 32-token vocabulary is accepted: it is the user's data, and
/// a trainer refuses it when it starts, naming the row.
///
/// Conversational rows (TRL's `"prompt": [{"role": …, "content": …}]`) are refused, naming the line: the
/// tasks are plain text, and a flattening (role tags, a chat template) would invent tokens the 32-token
/// vocabulary does not have. A list or object in a column PolicyLab does not use is kept like any other.
public enum DatasetJSONL {
    /// Infers the dataset kind from a row's columns.
    static func inferKind(_ columns: DatasetLine.Columns) -> DatasetKind? {
        if columns.contains(.chosen) || columns.contains(.rejected) { return .preference }
        if columns.contains(.label) { return .unpaired }
        if columns.contains(.completion) || columns.contains(.reward) { return .scored }
        if columns.contains(.prompt) { return .prompt }
        return nil
    }

    static func allowedColumns(_ kind: DatasetKind) -> DatasetLine.Columns {
        switch kind {
        case .prompt: DatasetLine.Columns([.prompt, .reference])
        case .preference:
            DatasetLine.Columns([
                .prompt, .chosen, .rejected, .chosenScore, .rejectedScore, .scoreChosen, .scoreRejected,
            ])
        case .scored: DatasetLine.Columns([.prompt, .completion, .reward])
        case .unpaired: DatasetLine.Columns([.prompt, .completion, .label])
        }
    }

    static func requiredColumns(_ kind: DatasetKind) -> String {
        switch kind {
        case .prompt: "\"prompt\""
        case .preference: "\"prompt\", \"chosen\" and \"rejected\""
        case .scored: "\"prompt\", \"completion\" and \"reward\""
        case .unpaired: "\"prompt\", \"completion\" and \"label\""
        }
    }

    /// Parses a whole file's bytes. `kind` nil: inferred from the first row. Throws `DatasetFileError`.
    public static func parse(
        _ data: [UInt8], file: String, kind requestedKind: DatasetKind? = nil
    ) throws -> DatasetRows {
        let lines = nonBlankLines(data)
        let decoded = decodeLines(lines)
        var kind = requestedKind
        var prompts: [PromptRow] = []
        var pairs: [PreferencePair] = []
        var scored: [ScoredResponse] = []
        var unpaired: [UnpairedCompletion] = []
        for (line, result) in zip(lines, decoded) {
            do throws(LineProblem) {
                let decoded = try result.get()
                if kind == nil {
                    guard let inferred = inferKind(decoded.presentColumns) else {
                        throw LineProblem(
                            "cannot tell the dataset kind: no \"prompt\" field "
                                + "(expected TRL's prompt, preference, scored or unpaired columns)")
                    }
                    kind = inferred
                }
                guard let kind else { continue }
                let line = try CheckedLine(decoded, kind: kind)
                let extra = decoded.otherColumns
                switch kind {
                case .prompt:
                    prompts.append(PromptRow(
                        prompt: try line.text(.prompt), reference: try line.optionalText(.reference), extra: extra))
                case .preference:
                    let scores = try line.scores()
                    pairs.append(PreferencePair(
                        prompt: try line.text(.prompt), chosen: try line.text(.chosen),
                        rejected: try line.text(.rejected), chosenScore: scores.chosen,
                        rejectedScore: scores.rejected, scoreNames: scores.names, extra: extra))
                case .scored:
                    scored.append(ScoredResponse(
                        prompt: try line.text(.prompt), response: try line.text(.completion),
                        reward: try line.reward(), extra: extra))
                case .unpaired:
                    unpaired.append(UnpairedCompletion(
                        prompt: try line.text(.prompt), completion: try line.text(.completion),
                        label: try line.label(), extra: extra))
                }
            } catch {
                throw DatasetFileError(file: file, line: line.number, problem: error.problem)
            }
        }
        switch kind {
        case .prompt where !prompts.isEmpty: return .prompts(prompts)
        case .preference where !pairs.isEmpty: return .preferences(pairs)
        case .scored where !scored.isEmpty: return .scored(scored)
        case .unpaired where !unpaired.isEmpty: return .unpaired(unpaired)
        default: throw DatasetFileError(file: file, line: 0, problem: "the file has no rows")
        }
    }

    /// One line of the file that holds more than white space, with its 1-based number.
    struct NumberedLine: Sendable {
        let number: Int
        let bytes: ArraySlice<UInt8>
    }

    static func nonBlankLines(_ data: [UInt8]) -> [NumberedLine] {
        var lines: [NumberedLine] = []
        var start = 0
        var number = 0
        while start < data.count {
            number += 1
            let end = data[start...].firstIndex(of: 0x0A) ?? data.count
            let bytes = data[start..<end]
            start = end + 1
            if !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                lines.append(NumberedLine(number: number, bytes: bytes))
            }
        }
        return lines
    }

    /// Decodes every line, in parallel chunks when the file is large (decoding is most of an import's time).
    /// A chunk stops at its first bad line, and the result ends there: the import fails at that line.
    static func decodeLines(_ lines: [NumberedLine]) -> [Result<DatasetLine, LineProblem>] {
        let chunkCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 20_000))
        let chunkSize = (lines.count + chunkCount - 1) / max(1, chunkCount)
        let chunks = Mutex([[Result<DatasetLine, LineProblem>]](repeating: [], count: chunkCount))
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let decoder = JSONDecoder()
            var results: [Result<DatasetLine, LineProblem>] = []
            results.reserveCapacity(chunkSize)
            for line in lines[min(lines.count, chunk * chunkSize)..<min(lines.count, (chunk + 1) * chunkSize)] {
                let result = Result { () throws(LineProblem) in try decodeLine(line.bytes, decoder: decoder) }
                results.append(result)
                if case .failure = result { break }
            }
            chunks.withLock { $0[chunk] = results }
        }
        return chunks.withLock { chunks in
            var results: [Result<DatasetLine, LineProblem>] = []
            for chunk in chunks {
                results += chunk
                if case .failure = chunk.last { break }
            }
            return results
        }
    }

    /// What is wrong with one line, without its location.
    struct LineProblem: Error, Sendable {
        let problem: String
        init(_ problem: String) { self.problem = problem }
    }

    /// Decodes one line, turning the decoder's errors into one-line problems.
    private static func decodeLine(_ line: ArraySlice<UInt8>, decoder: JSONDecoder) throws(LineProblem) -> DatasetLine {
        do {
            return try decoder.decode(DatasetLine.self, from: Data(line))
        } catch let error as DatasetLine.WrongType {
            if case .array = error.found { throw nestedValue(error.column.rawValue, error.found) }
            if case .object = error.found { throw nestedValue(error.column.rawValue, error.found) }
            let column = error.column
            throw LineProblem(
                "field \"\(column.rawValue)\" must be \(expectedType(column)), found \(error.found.typeName)")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw LineProblem("not a JSON object (each line must be one {...} object)")
        } catch DecodingError.dataCorrupted(let context) {
            // JSONDecoder also refuses bad UTF-8, but naming it is clearer than its byte offset.
            guard String(validating: line, as: UTF8.self) != nil else {
                throw LineProblem("the line is not valid UTF-8 text")
            }
            throw LineProblem("malformed JSON: \(oneLine(context))")
        } catch {
            throw LineProblem("malformed JSON: \(error)")
        }
    }

    private static func expectedType(_ column: DatasetLine.Column) -> String {
        switch column {
        case .reward, .chosenScore, .rejectedScore, .scoreChosen, .scoreRejected: "a finite number"
        case .label: "true or false"
        case .prompt, .reference, .chosen, .rejected, .completion: "a string"
        }
    }

    /// A list or object where PolicyLab reads text: TRL's conversational format (a list of
    /// `{"role","content"}` messages) is named as such.
    private static func nestedValue(_ column: String, _ value: JSONValue) -> LineProblem {
        var isConversation = false
        if case .array(let messages) = value {
            isConversation = messages.contains { if case .object(let m) = $0 { m["role"] != nil } else { false } }
        }
        let what = isConversation ? "a conversation (a list of role/content messages)" : "a list or object"
        return LineProblem(
            "field \"\(column)\" holds \(what); PolicyLab's tasks are plain text, so only TRL's standard "
                + "(non-conversational) format is imported — give \"\(column)\" as a string")
    }

    /// The decoder's explanation, with the underlying parser's message when it has one, on one line.
    private static func oneLine(_ context: DecodingError.Context) -> String {
        var text = context.debugDescription
        if let underlying = context.underlyingError { text += " (\(underlying))" }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A decoded line checked against its dataset's kind: only the kind's columns, each text non-empty.
    private struct CheckedLine {
        let line: DatasetLine
        let kind: DatasetKind

        init(_ line: DatasetLine, kind: DatasetKind) throws(LineProblem) {
            self.line = line
            self.kind = kind
            let allowed = DatasetJSONL.allowedColumns(kind)
            // Unknown columns are kept (`extra`); a known column of another kind means the file mixes kinds.
            let unexpected = line.presentColumns.subtracting(allowed).map(\.rawValue)
            if let column = unexpected.sorted().first {
                let names = DatasetLine.Column.allCases.filter(allowed.contains).map(\.rawValue).sorted()
                    .joined(separator: ", ")
                throw LineProblem("unexpected field \"\(column)\" for a \(kind.rawValue) dataset (allowed: \(names))")
            }
        }

        /// A required column: absent is "missing", null is the wrong type.
        private func missing(_ column: DatasetLine.Column) -> LineProblem {
            if line.presentColumns.contains(column) {
                return LineProblem("field \"\(column.rawValue)\" must be \(expectedType(column)), found null")
            }
            return LineProblem(
                "missing field \"\(column.rawValue)\" (a \(kind.rawValue) dataset needs \(requiredColumns(kind)))")
        }

        func text(_ column: DatasetLine.Column) throws(LineProblem) -> String {
            guard let text = try optionalText(column) else { throw missing(column) }
            return text
        }

        func optionalText(_ column: DatasetLine.Column) throws(LineProblem) -> String? {
            let text = line.text(column)
            if text?.isEmpty == true { throw LineProblem("field \"\(column.rawValue)\" is an empty string") }
            return text
        }

        func reward() throws(LineProblem) -> Double {
            guard let reward = line.reward else { throw missing(.reward) }
            return reward
        }

        func label() throws(LineProblem) -> Bool {
            guard let label = line.label else { throw missing(.label) }
            return label
        }

        /// The pair's scores under either spelling; a row may not mix the two.
        func scores() throws(LineProblem) -> (chosen: Double?, rejected: Double?, names: ScoreColumnNames) {
            let present = line.presentColumns
            let policyLab = present.contains(.chosenScore) || present.contains(.rejectedScore)
            let ultraFeedback = present.contains(.scoreChosen) || present.contains(.scoreRejected)
            if policyLab && ultraFeedback {
                throw LineProblem(
                    "the scores are given twice (\"chosen_score\"/\"rejected_score\" and UltraFeedback's "
                        + "\"score_chosen\"/\"score_rejected\") — keep one spelling")
            }
            if ultraFeedback && (line.scoreChosen != nil || line.scoreRejected != nil) {
                return (line.scoreChosen, line.scoreRejected, .ultraFeedback)
            }
            return (line.chosenScore, line.rejectedScore, .policyLab)
        }
    }

    /// Encodes rows as JSONL, one `JSONEncoder` object per line; `parse(encode(rows))` gives back `rows` exactly.
    public static func encode(_ rows: DatasetRows) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func line<Value: Encodable>(_ value: Value) -> String {
            // Encoding strings and finite doubles cannot fail; the rows come from the store or a parsed file.
            guard let data = try? encoder.encode(value) else { preconditionFailure("unencodable dataset row") }
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        switch rows {
        case .prompts(let prompts):
            return prompts.map {
                line(DatasetLine(prompt: $0.prompt, reference: $0.reference, otherColumns: $0.extra))
            }.joined()
        case .preferences(let pairs):
            return pairs.map { pair in
                let ultraFeedback = pair.scoreNames == .ultraFeedback
                return line(DatasetLine(
                    prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected,
                    chosenScore: ultraFeedback ? nil : pair.chosenScore,
                    rejectedScore: ultraFeedback ? nil : pair.rejectedScore,
                    scoreChosen: ultraFeedback ? pair.chosenScore : nil,
                    scoreRejected: ultraFeedback ? pair.rejectedScore : nil, otherColumns: pair.extra))
            }.joined()
        case .scored(let responses):
            return responses.map {
                line(DatasetLine(prompt: $0.prompt, completion: $0.response, reward: $0.reward, otherColumns: $0.extra))
            }.joined()
        case .unpaired(let rows):
            return rows.map {
                line(DatasetLine(prompt: $0.prompt, completion: $0.completion, label: $0.label, otherColumns: $0.extra))
            }.joined()
        }
    }
}
