import Foundation
import Testing

/// A command that refuses its input, or only reads, leaves the database file byte-for-byte as it was.
@Suite struct RefusedCommandTests {
    /// The database file and the frames of its WAL, to compare before and after a command. An empty WAL
    /// counts as none: a read-only connection may leave an empty one behind, which holds nothing.
    private func snapshot(_ cli: CommandRunner) -> [Data?] {
        let database = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let wal = FileManager.default.contents(atPath: cli.path("policylab.sqlite-wal"))
        return [database, wal?.isEmpty == false ? wal : nil]
    }

    @Test func refusedAndReadingCommandsLeaveTheFileUnchanged() throws {
        let cli = CommandRunner()
        let base = try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
        #expect(base.status == 0, "\(base.stderr)")
        let pairs = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "preference", "--count", "16", "--name", "pairs")
        #expect(pairs.status == 0, "\(pairs.stderr)")
        let before = snapshot(cli)
        #expect(before[0] != nil)

        let bad = cli.write("bad.jsonl", "{\"prompt\":\"1=\",\"chosen\":\"1\",\"rejected\":\"2\"}\n{\"prompt\":\n")
        let good = cli.write("good.jsonl", "{\"prompt\":\"1=\",\"reference\":\"1\"}\n")
        let refused: [[String]] = [
            ["train", "dpo", "--dataset", "no-such-dataset", "--ref", "no-such-run"],
            ["train", "dpo", "--dataset", "pairs", "--ref", "no-such-run"],
            ["train", "dpo", "--dataset", "no-such-dataset", "--ref", "base"],
            ["train", "grpo", "--task", "sort", "--init", "no-such-run", "--steps", "1"],
            ["train", "online-dpo", "--task", "sort", "--ref", "no-such-run", "--steps", "1"],
            ["train", "sft", "--task", "sort", "--steps", "1", "--batch-size", "4", "--name", "base"],
            ["data", "import", bad, "--name", "bad"],
            ["data", "import", good, "--name", "pairs"],
            ["data", "delete", "no-such-dataset"],
            ["data", "show", "no-such-dataset"],
            ["runs", "show", "no-such-run"],
            ["sample", "no-such-run", "--prompt", "1="],
            ["inspect", "no-such-run"],
            ["export", "no-such-run", "--out", cli.path("x.safetensors")],
            ["compare", "base", "no-such-run"],
        ]
        for arguments in refused {
            let result = try cli.run(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(snapshot(cli) == before, "\(arguments) changed the database file")
        }
        let reading: [[String]] = [
            ["runs", "list"], ["runs", "show", "base"], ["data", "list"], ["data", "show", "pairs"],
            ["data", "export", "pairs"], ["compare", "base"], ["inspect", "base"],
            ["sample", "base", "--prompt", "1=", "-n", "2"],
        ]
        for arguments in reading {
            let result = try cli.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(snapshot(cli) == before, "\(arguments) changed the database file")
        }
        // The same store accepts a write afterwards.
        #expect(try cli.run("data", "import", good, "--name", "good").status == 0)
        #expect(snapshot(cli) != before)
    }

    @Test func readingCommandsWithoutADatabaseCreateNone() throws {
        let cli = CommandRunner()
        for arguments in [["runs", "list"], ["data", "list"]] {
            #expect(try cli.run(arguments).status == 0)
        }
        for arguments in [["runs", "show", "1"], ["compare", "x"], ["data", "show", "x"]] {
            #expect(try cli.run(arguments).status == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }
}
