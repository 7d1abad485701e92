import Foundation
import Testing

/// `data generate --from-run RUN --kind scored|preference` and `train reward-model` on the scored rows,
/// through the real binary; bad input refused before anything is written.
@Suite struct GenerateFromRunCommandTests {
    func snapshot(_ cli: CommandRunner) -> [Data?] {
        let wal = FileManager.default.contents(atPath: cli.path("policylab.sqlite-wal"))
        return [FileManager.default.contents(atPath: cli.path("policylab.sqlite")), wal?.isEmpty == false ? wal : nil]
    }

    @Test func aRunsSamplesBecomeScoredAndPreferenceRowsThatTrainARewardModel() throws {
        let cli = CommandRunner()
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "20", "--batch-size", "16",
                            "--name", "base").status == 0)
        let scored = try cli.run("data", "generate", "--from-run", "base", "--kind", "scored", "--count", "40",
                                 "--samples", "4", "--reward", "task:1,length:-0.01", "--name", "scored", "--json")
        #expect(scored.status == 0, "\(scored.stderr)")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
        // 40 prompts × 4 completions, less those holding a special token (no text).
        let rows = try #require(info["row_count"] as? Int)
        #expect(info["kind"] as? String == "scored" && rows > 0 && rows <= 160, "\(rows) rows")
        #expect(info["task"] as? String == "sort")
        let exported = try cli.run("data", "export", "scored")
        let first = try #require(exported.stdout.split(separator: "\n").first)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(row["prompt"] is String && row["completion"] is String && row["reward"] is Double)

        let preference = try cli.run("data", "generate", "--from-run", "base", "--kind", "preference",
                                     "--count", "40", "--samples", "4", "--name", "ranked", "--json")
        #expect(preference.status == 0, "\(preference.stderr)")

        for dataset in ["scored", "ranked"] {
            let rewardModel = try cli.run("train", "reward-model", "--dataset", dataset, "--steps", "3",
                                          "--batch-size", "8", "--name", "rm-\(dataset)", "--json")
            #expect(rewardModel.status == 0, "\(dataset): \(rewardModel.stderr)")
        }
    }

    @Test func badInputIsRefused() throws {
        let cli = CommandRunner()
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4",
                            "--name", "base").status == 0)
        let usage: [[String]] = [
            ["--task", "sort", "--kind", "scored"], ["--task", "sort", "--kind", "prompt", "--samples", "2"],
            ["--from-run", "base", "--kind", "prompt"],
            ["--from-run", "base", "--kind", "preference", "--samples", "1"],
            ["--from-run", "base", "--kind", "scored", "--reward", "task:x"], ["--kind", "prompt"],
        ]
        for arguments in usage {
            let result = try cli.run(["data", "generate", "--count", "4", "--name", "x"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
        let before = snapshot(cli)
        for arguments in [["--from-run", "no-such-run"], ["--from-run", "base", "--reward", "rm:base"]] {
            let result = try cli.run(
                ["data", "generate", "--count", "4", "--name", "x", "--kind", "scored"] + arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(snapshot(cli) == before)
        }
    }
}
