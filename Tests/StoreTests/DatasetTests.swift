import Foundation
import Testing
@testable import Store
import TestSupport

@Suite struct DatasetTests {
    let preferenceFile = """
        {"prompt":"315204=","chosen":"012345","rejected":"012354"}
        {"prompt":"1=","chosen":"1","rejected":"2","chosen_score":1,"rejected_score":0.25}

        """

    @Test func importsEachKind() throws {
        let prefs = try DatasetJSONL.parse(Array(preferenceFile.utf8), file: "p.jsonl")
        #expect(prefs == .preferences([
            PreferencePair(prompt: "315204=", chosen: "012345", rejected: "012354"),
            PreferencePair(prompt: "1=", chosen: "1", rejected: "2", chosenScore: 1, rejectedScore: 0.25),
        ]))
        let promptText = "{\"prompt\":\"a\\nb\",\"reference\":\"é\"}\n{\"prompt\":\"c\",\"reference\":null}"
        let prompts = try DatasetJSONL.parse(Array(promptText.utf8), file: "q")
        #expect(prompts == .prompts([PromptRow(prompt: "a\nb", reference: "é"), PromptRow(prompt: "c")]))
        let scoredText = "{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":-0.5}\r\n  \n"
        let scored = try DatasetJSONL.parse(Array(scoredText.utf8), file: "s")
        #expect(scored == .scored([ScoredResponse(prompt: "a", response: "b", reward: -0.5)]))

        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        for (name, rows) in [("prefs", prefs), ("prompts", prompts), ("scored", scored)] {
            let info = try store.insertDataset(name: name, rows: rows)
            #expect(info.rowCount == rows.count)
            #expect(try store.rows(ofDataset: name) == rows)
        }
        #expect(try store.rows(ofDataset: "prefs", limit: 1).count == 1)
    }

    @Test func exportThenImportRoundTripsExactly() throws {
        let rows = DatasetRows.preferences([
            PreferencePair(
                prompt: "q \"quoted\" \\ tab\t / slash", chosen: "ünïcödé 🎲", rejected: "x\u{01}y",
                chosenScore: 0.1, rejectedScore: -3),
            PreferencePair(prompt: "p", chosen: "c", rejected: "r", chosenScore: 1e-300, rejectedScore: 2.5e10),
        ])
        let text = DatasetJSONL.encode(rows)
        let parsed = try DatasetJSONL.parse(Array(text.utf8), file: "x")
        #expect(parsed == rows)
        #expect(DatasetJSONL.encode(parsed) == text)
    }

    /// Every malformed input is refused with one line naming its line number (0: the file as a whole).
    /// That nothing reaches the database is checked end to end by the CLI tests (`data import`).
    @Test(arguments: [
        (#"{"prompt":"a","chosen":"b","rejected":"c"}\#n{"prompt":"a","chosen":"b""#, 2, "malformed JSON"),
        (#"{"prompt":"a","chosen":"b","rejected":"c"}\#n{"prompt":"a","chosen":"b"}"#, 2, #"missing field "rejected""#),
        (#"{"prompt":"a","chosen":"b","rejected":3}"#, 1, "must be a string"),
        (#"{"prompt":"","chosen":"b","rejected":"c"}"#, 1, "empty string"),
        (#"{"prompt":"a","completion":"b","reward":NaN}"#, 1, "malformed JSON"),
        (#"{"prompt":"a","completion":"b","reward":1e999}"#, 1, "malformed JSON"),
        (#"{"prompt":"a","completion":"b","reward":"1"}"#, 1, "must be a finite number"),
        (#"{"prompt":"a","chosen":"b","rejected":"c","chosen_scor":1}"#, 1, #"unexpected field "chosen_scor""#),
        (#"{"prompt":"a","reference":"b"}\#n{"prompt":"a","chosen":"b"}"#, 2, #"unexpected field "chosen""#),
        (#"{"prompt":[{"role":"user","content":"hi"}],"completion":"b","reward":1}"#, 1, "list or object"),
        (#"{"prompt":"a","completion":"b","reward":null}"#, 1, #""reward" must be a finite number, found null"#),
        (#"{"chosen_score":1}"#, 1, "cannot tell the dataset kind"),
        (#"{"id":3}"#, 1, "cannot tell the dataset kind"),
        ("[1,2]", 1, "not a JSON object"),
        (#""text""#, 1, "not a JSON object"),
        (#"{"prompt":"a"} trailing"#, 1, "malformed JSON"),
        ("", 0, "no rows"),
    ])
    func badInputIsRefusedAndChangesNothing(input: String, line: Int, message: String) throws {
        try checkRefused(bytes: Array(input.utf8), line: line, message: message)
    }

    @Test func nonUTF8BytesAreRefused() throws {
        var bytes = Array("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\",\"chosen\":\"b\",\"rejected\":\"c\"}\n".utf8)
        try checkRefused(bytes: bytes, line: 2, message: "not valid UTF-8")
    }

    private func checkRefused(bytes: [UInt8], line: Int, message: String) throws {
        do {
            _ = try DatasetJSONL.parse(bytes, file: "bad.jsonl")
            Issue.record("expected a DatasetFileError")
        } catch let error as DatasetFileError {
            #expect(error.line == line)
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.hasPrefix(line > 0 ? "bad.jsonl:\(line): " : "bad.jsonl: "))
            #expect(!error.description.contains("\n"))
        }
    }

    /// Columns PolicyLab does not know are decoded and kept by name (so a later version can store them);
    /// today the dataset's check refuses them.
    @Test func unknownColumnsAreKeptByTheDecoderAndRefusedByTheCheck() throws {
        let text = #"{"prompt":"1=","reference":"1","id":7,"meta":{"source":["a",null,true]}}"#
        let line = try JSONDecoder().decode(DatasetLine.self, from: Data(text.utf8))
        #expect(line.prompt == "1=" && line.reference == "1")
        #expect(line.otherColumns == [
            "id": .number(7), "meta": .object(["source": .array([.string("a"), .null, .bool(true)])]),
        ])
        let encoded = try JSONDecoder().decode(DatasetLine.self, from: JSONEncoder().encode(line))
        #expect(encoded.otherColumns == line.otherColumns && encoded.prompt == "1=")
        #expect(throws: DatasetFileError.self) { try DatasetJSONL.parse(Array(text.utf8), file: "x") }
    }

    @Test func duplicateNameIsRefusedUnlessReplacing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        try store.insertDataset(name: "d", rows: .prompts([PromptRow(prompt: "old")]))
        #expect(throws: StoreError.datasetExists(name: "d")) {
            try store.insertDataset(name: "d", rows: .prompts([PromptRow(prompt: "new")]))
        }
        #expect(try store.rows(ofDataset: "d") == .prompts([PromptRow(prompt: "old")]))
        let scored = DatasetRows.scored([ScoredResponse(prompt: "p", response: "r", reward: 1)])
        try store.insertDataset(name: "d", rows: scored, replace: true)
        #expect(try store.rows(ofDataset: "d") == scored)
        try store.deleteDataset(named: "d")
        #expect(throws: StoreError.unknownDataset(name: "d")) { try store.rows(ofDataset: "d") }
    }
}
