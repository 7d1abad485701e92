import Foundation
import Testing

@Suite struct DataCommandTests {
    @Test func importsTheShippedDatasetsAndListsThemAsJSON() throws {
        let cli = CommandRunner()
        for (file, name) in [("sort-preferences.jsonl", "sort-prefs"), ("sort-prompts.jsonl", "sort-prompts")] {
            let path = CommandRunner.packageRoot.appendingPathComponent("datasets/\(file)").path
            let result = try cli.run("data", "import", path, "--name", name)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("imported 64"))
        }
        let list = try cli.run("data", "list", "--json")
        #expect(list.status == 0)
        let parsed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.compactMap { $0["name"] as? String } == ["sort-prefs", "sort-prompts"])
        #expect(parsed?.first?["kind"] as? String == "preference")
        #expect(parsed?.first?["row_count"] as? Int == 64)
    }

    @Test func exportRoundTripsThroughTheCommandLine() throws {
        let cli = CommandRunner()
        let source = CommandRunner.packageRoot.appendingPathComponent("datasets/sort-preferences.jsonl").path
        try cli.run("data", "import", source, "--name", "a")
        #expect(try cli.run("data", "export", "a", "--out", cli.path("a.jsonl")).status == 0)
        #expect(try cli.run("data", "import", cli.path("a.jsonl"), "--name", "b").status == 0)
        let exportedA = try cli.run("data", "export", "a").stdout
        let exportedB = try cli.run("data", "export", "b").stdout
        #expect(exportedA == exportedB)
        #expect(exportedA.split(separator: "\n").count == 64)
        let show = try cli.run("data", "show", "b", "--limit", "2", "--json")
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        #expect((object?["rows"] as? [Any])?.count == 2)
        #expect(try cli.run("data", "delete", "b").status == 0)
        #expect(try cli.run("data", "show", "b").status == 1)
    }

    @Test func aBadFileFailsWithOneLineAndChangesNothing() throws {
        let cli = CommandRunner()
        let good = cli.write("good.jsonl", "{\"prompt\":\"1=\",\"reference\":\"1\"}\n")
        #expect(try cli.run("data", "import", good, "--name", "good").status == 0)
        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let bad = cli.write("bad.jsonl", "{\"prompt\":\"1=\"}\n{\"prompt\":\"2=\",\"reference\":7}\n")
        let result = try cli.run("data", "import", bad, "--name", "bad")
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("bad.jsonl:2: field \"reference\" must be a string"))
        #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before)
    }

    @Test func duplicateNamesAndReadingCommandsLeaveTheFileUnchanged() throws {
        let cli = CommandRunner()
        let source = CommandRunner.packageRoot.appendingPathComponent("datasets/sort-prompts.jsonl").path
        #expect(try cli.run("data", "import", source, "--name", "a").status == 0)
        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let duplicate = try cli.run("data", "import", source, "--name", "a")
        #expect(duplicate.status == 1 && duplicate.stderr.contains("--replace"))
        for command in [["data", "list"], ["data", "show", "a"], ["data", "export", "a"]] {
            #expect(try cli.run(command).status == 0)
        }
        #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before)
        #expect(try cli.run("data", "import", source, "--name", "a", "--replace").status == 0)
    }

    @Test func aBadFileDoesNotCreateADatabase() throws {
        let cli = CommandRunner()
        let bad = cli.write("bad.jsonl", "not json\n")
        #expect(try cli.run("data", "import", bad, "--name", "x").status == 1)
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }

    @Test func usageErrorsExitWith64AndRuntimeErrorsWith1() throws {
        let cli = CommandRunner()
        #expect(try cli.run("data", "list", "--no-such-flag").status == 64)
        #expect(try cli.run("data", "show", "nothing").status == 1)
        let runs = try cli.run("runs", "list")
        #expect(runs.status == 0)
        #expect(runs.stdout.contains("no runs yet"))
        #expect(try cli.run("runs", "list", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        #expect(try cli.run("runs", "show", "42").status == 1)
        _ = cli.write("text.sqlite", "hello")
        let foreign = try cli.run("data", "list", "--db", cli.path("text.sqlite"))
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("not a SQLite database"))
    }
}
