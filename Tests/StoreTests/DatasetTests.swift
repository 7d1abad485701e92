import Foundation
import Testing
@testable import Store

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
        let prompts = try DatasetJSONL.parse(Array("{\"prompt\":\"a\\nb\",\"reference\":\"é\"}\n{\"prompt\":\"c\"}".utf8), file: "q")
        #expect(prompts == .prompts([PromptRow(prompt: "a\nb", reference: "é"), PromptRow(prompt: "c")]))
        let scored = try DatasetJSONL.parse(Array("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":-0.5}".utf8), file: "s")
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
            PreferencePair(prompt: "q \"quoted\" \\ tab\t", chosen: "ünïcödé 🎲", rejected: "x\u{01}y", chosenScore: 0.1, rejectedScore: -3),
            PreferencePair(prompt: "p", chosen: "c", rejected: "r", chosenScore: 1e-300, rejectedScore: 2.5e10),
        ])
        let text = DatasetJSONL.encode(rows)
        let parsed = try DatasetJSONL.parse(Array(text.utf8), file: "x")
        #expect(parsed == rows)
        #expect(DatasetJSONL.encode(parsed) == text)
    }

    /// Every malformed input names its line and leaves the database byte-for-byte unchanged.
    @Test(arguments: [
        ("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chosen\":\"b\"", 2, "malformed JSON"),
        ("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chosen\":\"b\"}", 2, "missing field \"rejected\""),
        ("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":3}", 1, "must be a string"),
        ("{\"prompt\":\"\",\"chosen\":\"b\",\"rejected\":\"c\"}", 1, "empty string"),
        ("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":NaN}", 1, "malformed JSON"),
        ("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1e999}", 1, "malformed JSON"),
        ("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":\"1\"}", 1, "must be a finite number"),
        ("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\",\"chosen_scor\":1}", 1, "unexpected field"),
        ("[1,2]", 1, "not a JSON object"),
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
        let dir = TemporaryDirectory()
        let dbPath = dir.path("lab.sqlite")
        do {
            let store = try Store(path: dbPath)
            try store.insertDataset(name: "existing", rows: .prompts([PromptRow(prompt: "keep me")]))
        }
        let before = fileBytes(dbPath)
        do {
            _ = try DatasetJSONL.parse(bytes, file: "bad.jsonl")
            Issue.record("expected a DatasetFileError")
        } catch let error as DatasetFileError {
            #expect(error.line == line)
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.hasPrefix(line > 0 ? "bad.jsonl:\(line): " : "bad.jsonl: "))
            #expect(!error.description.contains("\n"))
        }
        #expect(fileBytes(dbPath) == before)
    }

    @Test func duplicateNameIsRefusedUnlessReplacing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        try store.insertDataset(name: "d", rows: .prompts([PromptRow(prompt: "old")]))
        #expect(throws: StoreError.datasetExists(name: "d")) {
            try store.insertDataset(name: "d", rows: .prompts([PromptRow(prompt: "new")]))
        }
        #expect(try store.rows(ofDataset: "d") == .prompts([PromptRow(prompt: "old")]))
        try store.insertDataset(name: "d", rows: .scored([ScoredResponse(prompt: "p", response: "r", reward: 1)]), replace: true)
        #expect(try store.rows(ofDataset: "d") == .scored([ScoredResponse(prompt: "p", response: "r", reward: 1)]))
        try store.deleteDataset(named: "d")
        #expect(throws: StoreError.unknownDataset(name: "d")) { try store.rows(ofDataset: "d") }
    }
}
