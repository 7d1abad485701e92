import Foundation
import GRDB
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
        (#"{"prompt":"a","chosen":"b","rejected":"c","reward":1}"#, 1, #"unexpected field "reward""#),
        (#"{"prompt":"a","chosen":"b","rejected":"c","chosen_score":1,"score_rejected":0}"#, 1,
         "scores are given twice"),
        (#"{"prompt":"a","completion":"b","label":1}"#, 1, #""label" must be true or false, found a number"#),
        (#"{"prompt":"a","completion":"b","label":true}\#n{"prompt":"a","completion":"b"}"#, 2,
         #"missing field "label""#),
        (#"{"prompt":"a","chosen":[{"role":"user","content":"b"}],"rejected":"c"}"#, 1, "a conversation"),
        (#"{"prompt":"a","reference":"b"}\#n{"prompt":"a","chosen":"b"}"#, 2, #"unexpected field "chosen""#),
        (#"{"prompt":{"text":"hi"},"completion":"b","reward":1}"#, 1,
         "list or object; PolicyLab's tasks are plain text"),
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

    /// Columns PolicyLab does not know are kept per row, stored, and exported back with the same values;
    /// UltraFeedback's score names are read as the scores and written back under the same names.
    @Test func extraColumnsAndUltraFeedbackScoresAreStoredAndExportedBack() throws {
        let text = """
            {"prompt":"1=","chosen":"1","rejected":"2","score_chosen":8.5,"score_rejected":3,"prompt_id":"a7",\
            "messages":[{"role":"user","content":"1="}],"meta":{"source":["a",null,true]}}
            {"prompt":"2=","chosen":"2","rejected":"1","chosen_score":1,"id":12345678901}
            """
        let rows = try DatasetJSONL.parse(Array(text.utf8), file: "uf.jsonl")
        guard case .preferences(let pairs) = rows else { Issue.record("not preference rows"); return }
        #expect(pairs[0].chosenScore == 8.5 && pairs[0].rejectedScore == 3 && pairs[0].scoreNames == .ultraFeedback)
        #expect(pairs[0].extra["prompt_id"] == .string("a7"))
        #expect(pairs[0].extra["meta"] == .object(["source": .array([.string("a"), .null, .bool(true)])]))
        #expect(pairs[1].scoreNames == .policyLab && pairs[1].extra == ["id": .number(12345678901)])

        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        try store.insertDataset(name: "uf", rows: rows)
        let stored = try store.rows(ofDataset: "uf")
        #expect(stored == rows)
        let exported = DatasetJSONL.encode(stored)
        func objects(_ text: String) throws -> [NSDictionary] {
            try text.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSDictionary
            }
        }
        #expect(try objects(exported) == objects(text.replacingOccurrences(of: "\\\n", with: "")))
        #expect(try DatasetJSONL.parse(Array(exported.utf8), file: "again") == rows)
    }

    @Test func unpairedRowsAreTheirOwnKind() throws {
        let text = #"{"prompt":"1=","completion":"1","label":true}"# + "\n"
            + #"{"prompt":"1=","completion":"2","label":false,"source":"x"}"#
        let rows = try DatasetJSONL.parse(Array(text.utf8), file: "kto.jsonl")
        #expect(rows == .unpaired([
            UnpairedCompletion(prompt: "1=", completion: "1", label: true),
            UnpairedCompletion(prompt: "1=", completion: "2", label: false, extra: ["source": .string("x")]),
        ]))
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        let info = try store.insertDataset(name: "kto", rows: rows)
        #expect(info.kind == .unpaired)
        #expect(try store.rows(ofDataset: "kto") == rows)
        #expect(try store.dataset(named: "kto").kind == .unpaired)
    }

    /// A notebook written before the dataset-extras migration opens with its datasets intact and takes the
    /// new kind afterwards.
    @Test func anOlderNotebookMigratesWithItsDatasets() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v2-studies")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO datasets (name, kind, task, source, created_at, row_count)
                VALUES ('old', 'preference', 'sort', 'f.jsonl', 1.5, 1)
                """)
            try db.execute(sql: """
                INSERT INTO preference_pairs (dataset_id, idx, prompt, chosen, rejected, chosen_score, rejected_score)
                VALUES (1, 0, '1=', '1', '2', 1, 0)
                """)
            try db.execute(sql: """
                INSERT INTO runs (name, algorithm, target, dataset_id, config_json, seed, status, started_at)
                VALUES ('r', 'dpo', 'sort', 1, '{}', 1, 'finished', 2)
                """)
        }
        try queue.close()
        let store = try Store(path: path)
        #expect(try store.appliedMigrations() == Schema.knownMigrations)
        #expect(try store.rows(ofDataset: "old") == .preferences([
            PreferencePair(prompt: "1=", chosen: "1", rejected: "2", chosenScore: 1, rejectedScore: 0),
        ]))
        #expect(try store.dataset(named: "old").task == "sort")
        try store.insertDataset(
            name: "kto", rows: .unpaired([UnpairedCompletion(prompt: "1=", completion: "1", label: true)]))
        #expect(try store.datasets().map(\.name) == ["kto", "old"])
        // The run still points at its dataset: deleting the dataset sets it to NULL, as the foreign key says.
        try store.deleteDataset(named: "old")
        let datasetID = try store.read { db in try Int64.fetchOne(db, sql: "SELECT dataset_id FROM runs") }
        #expect(datasetID == nil)
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
