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
/// - preference: `{"prompt","chosen","rejected"}` (+ optional numeric `chosen_score`, `rejected_score`)
/// - prompt: `{"prompt"}` (+ optional `"reference"`)
/// - scored: `{"prompt","completion","reward"}`
///
/// Each line goes through `JSONDecoder` into a `DatasetLine`; this type checks that the line's columns fit
/// the dataset's kind. Parsing is all-or-nothing: the first problem throws and no rows are returned.
/// Blank lines (only white space) are skipped; columns the kind does not use are an error, so typos do not
/// pass silently. Nested values (TRL's conversational format) are reported as unsupported.
public enum DatasetJSONL {
    /// Infers the dataset kind from a row's columns.
    static func inferKind(_ columns: DatasetLine.Columns) -> DatasetKind? {
        if columns.contains(.chosen) || columns.contains(.rejected) { return .preference }
        if columns.contains(.completion) || columns.contains(.reward) { return .scored }
        if columns.contains(.prompt) { return .prompt }
        return nil
    }

    static func allowedColumns(_ kind: DatasetKind) -> DatasetLine.Columns {
        switch kind {
        case .prompt: DatasetLine.Columns([.prompt, .reference])
        case .preference: DatasetLine.Columns([.prompt, .chosen, .rejected, .chosenScore, .rejectedScore])
        case .scored: DatasetLine.Columns([.prompt, .completion, .reward])
        }
    }

    static func requiredColumns(_ kind: DatasetKind) -> String {
        switch kind {
        case .prompt: "\"prompt\""
        case .preference: "\"prompt\", \"chosen\" and \"rejected\""
        case .scored: "\"prompt\", \"completion\" and \"reward\""
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
        for (line, result) in zip(lines, decoded) {
            do throws(LineProblem) {
                let decoded = try result.get()
                if kind == nil {
                    guard let inferred = inferKind(decoded.presentColumns) else {
                        throw LineProblem(
                            "cannot tell the dataset kind: no \"prompt\" field "
                                + "(expected TRL's prompt, preference or scored columns)")
                    }
                    kind = inferred
                }
                guard let kind else { continue }
                let line = try CheckedLine(decoded, kind: kind)
                switch kind {
                case .prompt:
                    prompts.append(PromptRow(
                        prompt: try line.text(.prompt), reference: try line.optionalText(.reference)))
                case .preference:
                    pairs.append(PreferencePair(
                        prompt: try line.text(.prompt), chosen: try line.text(.chosen),
                        rejected: try line.text(.rejected), chosenScore: decoded.chosenScore,
                        rejectedScore: decoded.rejectedScore))
                case .scored:
                    scored.append(ScoredResponse(
                        prompt: try line.text(.prompt), response: try line.text(.completion),
                        reward: try line.reward()))
                }
            } catch {
                throw DatasetFileError(file: file, line: line.number, problem: error.problem)
            }
        }
        switch kind {
        case .prompt where !prompts.isEmpty: return .prompts(prompts)
        case .preference where !pairs.isEmpty: return .preferences(pairs)
        case .scored where !scored.isEmpty: return .scored(scored)
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
            if case .array = error.found { throw nestedValue(error.column.rawValue) }
            if case .object = error.found { throw nestedValue(error.column.rawValue) }
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
        [.reward, .chosenScore, .rejectedScore].contains(column) ? "a finite number" : "a string"
    }

    private static func nestedValue(_ column: String) -> LineProblem {
        LineProblem(
            "field \"\(column)\" holds a list or object; "
                + "only TRL's standard (non-conversational) format is supported")
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
            let unexpected = line.presentColumns.subtracting(allowed).map(\.rawValue) + line.otherColumns.keys
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
            return prompts.map { line(DatasetLine(prompt: $0.prompt, reference: $0.reference)) }.joined()
        case .preferences(let pairs):
            return pairs.map {
                line(DatasetLine(
                    prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected, chosenScore: $0.chosenScore,
                    rejectedScore: $0.rejectedScore))
            }.joined()
        case .scored(let responses):
            return responses.map {
                line(DatasetLine(prompt: $0.prompt, completion: $0.response, reward: $0.reward))
            }.joined()
        }
    }
}
