import Foundation
import Testing

/// Datasets as users have them (issue 21) through the real CLI: an UltraFeedback-shaped file imports with its
/// extra columns, exports them back and trains DPO and the reference-free losses; a KTO-format file imports
/// and trains KTO; text outside the vocabulary imports and is refused when training starts.
@Suite struct PreferenceDatasetCommandTests {
    /// Sort rows: the chosen answer sorted, the rejected one with two digits swapped.
    static let sortRows: [(prompt: String, chosen: String, rejected: String)] = [
        ("3120=", "0123", "0132"), ("52=", "25", "52"), ("4310=", "0134", "1034"), ("201=", "012", "021"),
        ("75=", "57", "75"), ("9513=", "1359", "1395"), ("860=", "068", "086"), ("42=", "24", "42"),
        ("3021=", "0123", "0213"), ("615=", "156", "165"), ("7342=", "2347", "2437"), ("90=", "09", "90"),
    ]

    private func snapshot(_ cli: CommandRunner) -> [Data?] {
        let database = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let wal = FileManager.default.contents(atPath: cli.path("policylab.sqlite-wal"))
        return [database, wal?.isEmpty == false ? wal : nil]
    }

    private func objects(_ text: String) throws -> [NSDictionary] {
        try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSDictionary
        }
    }

    @Test func ultraFeedbackShapedFileRoundTripsAndTrainsEveryPreferenceLoss() throws {
        let cli = CommandRunner()
        let lines = Self.sortRows.enumerated().map { index, row in
            #"{"prompt":"\#(row.prompt)","chosen":"\#(row.chosen)","rejected":"\#(row.rejected)","#
                + #""score_chosen":\#(8 + index % 3),"score_rejected":\#(Double(index) / 4),"#
                + #""prompt_id":"p\#(index)","source":"toy/\#(index)","#
                + #""messages":[{"role":"user","content":"\#(row.prompt)"}],"flags":[true,null,1.5]}"#
        }
        let file = cli.write("ultrafeedback.jsonl", lines.joined(separator: "\n") + "\n")
        let imported = try cli.run("data", "import", file, "--name", "uf", "--json")
        #expect(imported.status == 0, "\(imported.stderr)")
        let exported = try cli.run("data", "export", "uf")
        #expect(exported.status == 0, "\(exported.stderr)")
        // The same JSON values per row, extra columns and UltraFeedback's score names included.
        #expect(try objects(exported.stdout) == objects(lines.joined(separator: "\n")))

        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
            .status == 0)
        let runs: [(name: String, options: [String])] = [
            ("rpo", ["--loss", "sigmoid,sft", "--loss-weights", "1,0.5"]),
            ("norm", ["--loss", "sigmoid_norm"]),
            ("simpo", ["--loss", "simpo", "--beta", "2", "--simpo-gamma", "0.5"]),
            ("cpo", ["--loss", "cpo"]),
            ("orpo", ["--loss", "orpo"]),
        ]
        for run in runs {
            let result = try cli.run(
                ["train", "dpo", "--dataset", "uf", "--ref", "base", "--steps", "2", "--batch-size", "4",
                 "--name", run.name, "--json"] + run.options)
            #expect(result.status == 0, "\(run.name): \(result.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(summary?["held_out_accuracy"] is Double, "\(run.name): \(result.stdout)")
        }
        let shown = try cli.run("runs", "show", "orpo", "--json")
        #expect(shown.stdout.contains("log_odds_ratio"), "ORPO logs TRL's log_odds_ratio")

        let before = snapshot(cli)
        let refused: [[String]] = [
            ["--loss", "simpo", "--rpo-alpha", "1"], ["--loss", "orpo", "--loss-weights", "1"],
            ["--loss", "sigmoid", "--simpo-gamma", "1"], ["--loss", "sigmoid,nope"],
            ["--loss", "sigmoid,sft", "--loss-weights", "1"],
        ]
        for options in refused {
            let result = try cli.run(["train", "dpo", "--dataset", "uf", "--ref", "base"] + options)
            #expect(result.status == 64, "\(options): \(result.stderr)")
            #expect(snapshot(cli) == before, "\(options) changed the database file")
        }
    }

    @Test func ktoFileImportsAsUnpairedAndTrainsKTO() throws {
        let cli = CommandRunner()
        let lines = Self.sortRows.flatMap { row in
            [#"{"prompt":"\#(row.prompt)","completion":"\#(row.chosen)","label":true}"#,
             #"{"prompt":"\#(row.prompt)","completion":"\#(row.rejected)","label":false,"id":7}"#]
        }
        let file = cli.write("kto.jsonl", lines.joined(separator: "\n"))
        let imported = try cli.run("data", "import", file, "--name", "kto", "--json")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"unpaired\""), "\(imported.stdout)")
        #expect(try objects(cli.run("data", "export", "kto").stdout) == objects(lines.joined(separator: "\n")))
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
            .status == 0)
        let kto = try cli.run(
            "train", "kto", "--dataset", "kto", "--ref", "base", "--steps", "3", "--batch-size", "8", "--json")
        #expect(kto.status == 0, "\(kto.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(kto.stdout.utf8)) as? [String: Any]
        #expect(summary?["held_out_accuracy"] is Double, "\(kto.stdout)")
        let dpoOnUnpaired = try cli.run("train", "dpo", "--dataset", "kto", "--ref", "base")
        #expect(dpoOnUnpaired.status == 1 && dpoOnUnpaired.stderr.contains("preference"))
        let pairs = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "preference", "--count", "8", "--name", "pairs")
        #expect(pairs.status == 0)
        // Preference pairs train KTO as TRL's KTOTrainer takes a paired dataset: each pair gives a desirable and
        // an undesirable row (16 rows, 2 held out), so one step of 8 rows sees 8.
        let ktoOnPairs = try cli.run(
            "train", "kto", "--dataset", "pairs", "--ref", "base", "--steps", "1", "--batch-size", "8", "--json")
        #expect(ktoOnPairs.status == 0, "\(ktoOnPairs.stderr)")
        let pairSummary = try JSONSerialization.jsonObject(with: Data(ktoOnPairs.stdout.utf8)) as? [String: Any]
        #expect(pairSummary?["rows"] as? Int == 8, "\(ktoOnPairs.stdout)")
        #expect(try cli.run(
            "data", "generate", "--task", "sort", "--kind", "prompt", "--count", "4", "--name", "prompts").status == 0)
        let wrongKind = try cli.run("train", "kto", "--dataset", "prompts", "--ref", "base")
        #expect(wrongKind.status == 1 && wrongKind.stderr.contains("unpaired"), "\(wrongKind.stderr)")
    }

    /// Out-of-vocabulary text is the user's data: it imports, and training refuses it at the start, naming
    /// the row and the character, with the database unchanged.
    @Test func outOfVocabularyTextImportsAndTrainingRefusesItByRow() throws {
        let cli = CommandRunner()
        let file = cli.write("pairs.jsonl", """
            {"prompt":"21=","chosen":"12","rejected":"21"}
            {"prompt":"31=","chosen":"13","rejected":"31"}
            {"prompt":"Why?","chosen":"Because","rejected":"no"}
            """)
        #expect(try cli.run("data", "import", file, "--name", "words").status == 0)
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
            .status == 0)
        let before = snapshot(cli)
        for options in [["dpo"], ["reward-model"]] {
            var arguments = ["train"] + options + ["--dataset", "words"]
            if options == ["dpo"] { arguments += ["--ref", "base"] }
            let result = try cli.run(arguments)
            #expect(result.status == 1, "\(options): \(result.stderr)")
            #expect(result.stderr.contains("dataset row 3") && result.stderr.contains("\"W\""), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(snapshot(cli) == before, "\(options) changed the database file")
        }
    }

    @Test func conversationalAndBadUnpairedRowsAreRefusedByLine() throws {
        let cli = CommandRunner()
        let conversation = cli.write("chat.jsonl", """
            {"prompt":"1=","chosen":"1","rejected":"2"}
            {"prompt":[{"role":"user","content":"1="}],"chosen":"1","rejected":"2"}
            """)
        let result = try cli.run("data", "import", conversation, "--name", "chat")
        #expect(result.status == 1 && result.stderr.contains("chat.jsonl:2:"), "\(result.stderr)")
        #expect(result.stderr.contains("conversation") && result.stderr.contains("plain text"))
        let label = cli.write("label.jsonl", #"{"prompt":"1=","completion":"1","label":"yes"}"#)
        let badLabel = try cli.run("data", "import", label, "--name", "label")
        #expect(badLabel.status == 1 && badLabel.stderr.contains("label.jsonl:1:"), "\(badLabel.stderr)")
        #expect(badLabel.stderr.contains("true or false"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }
}
