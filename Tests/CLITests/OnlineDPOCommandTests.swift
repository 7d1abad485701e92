import Foundation
import Testing

/// `train online-dpo` through the real binary: TRL's logged names, the reward-model ranking, and bad input
/// refused with one line before anything is written.
@Suite struct OnlineDPOCommandTests {
    func latestMetrics(_ cli: CommandRunner, run: String) throws -> [String: Double] {
        let shown = try cli.run("runs", "show", run, "--json")
        return try #require(
            (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["latest_metrics"]
                as? [String: Double])
    }

    /// The database file and its WAL's frames (an empty WAL counts as none), as RefusedCommandTests takes them.
    func snapshot(_ cli: CommandRunner) -> [Data?] {
        let wal = FileManager.default.contents(atPath: cli.path("policylab.sqlite-wal"))
        return [FileManager.default.contents(atPath: cli.path("policylab.sqlite")), wal?.isEmpty == false ? wal : nil]
    }

    @Test func trainsFromAReferenceAndLogsTRLsNames() throws {
        let cli = CommandRunner()
        let base = try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
        #expect(base.status == 0, "\(base.stderr)")
        let small = ["--task", "sort", "--ref", "base", "--steps", "2", "--prompts", "3", "--eval-prompts", "8"]
        let online = try cli.run(["train", "online-dpo", "--name", "online", "--missing-eos-penalty", "0.5",
                                  "--json"] + small)
        #expect(online.status == 0, "\(online.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(online.stdout.utf8)) as? [String: Any])
        #expect(summary["run"] as? String == "online" && summary["completions"] as? Int == 12)
        let latest = try latestMetrics(cli, run: "online")
        for name in ["objective/scores", "objective/scores_margin", "objective/kl", "objective/entropy",
                     "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                     "logps/rejected", "val/contain_eos_token", "beta", "loss", "eval/exact_match"] {
            #expect(latest[name] != nil, "\(name) not logged")
        }
        #expect(latest["beta"] == 0.1)

        // Ranked by a reward model (IPO), from another start.
        let pairs = try cli.run("data", "generate", "--task", "sort", "--kind", "preference", "--count", "16",
                                "--name", "pairs")
        #expect(pairs.status == 0, "\(pairs.stderr)")
        let rewardModel = try cli.run("train", "reward-model", "--dataset", "pairs", "--steps", "2",
                                      "--batch-size", "4", "--name", "rm")
        #expect(rewardModel.status == 0, "\(rewardModel.stderr)")
        let ranked = try cli.run(["train", "online-dpo", "--name", "ranked", "--reward", "rm", "--loss", "ipo",
                                  "--init", "online"] + small)
        #expect(ranked.status == 0, "\(ranked.stderr)")
        #expect(try latestMetrics(cli, run: "ranked")["objective/scores"] != nil)
    }

    @Test func badInputIsRefusedWithOneLine() throws {
        let cli = CommandRunner()
        let base = try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base")
        #expect(base.status == 0, "\(base.stderr)")
        let usage: [[String]] = [
            ["--task", "sort", "--ref", "base", "--loss", "hinge"],
            ["--task", "sort", "--ref", "base", "--missing-eos-penalty", "-1"],
            ["--task", "no-such-task", "--ref", "base"],
            ["--task", "sort", "--ref", "base", "--prompts", "0"],
            ["--task", "sort", "--ref", "base", "--max-seconds", "0"],
        ]
        for arguments in usage {
            let result = try cli.run(["train", "online-dpo"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
        let database = snapshot(cli)
        for arguments in [["--ref", "no-such-run"], ["--ref", "base", "--reward", "base"],
                          ["--ref", "base", "--init", "no-such-run"]] {
            let result = try cli.run(["train", "online-dpo", "--task", "sort", "--steps", "1"] + arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        #expect(snapshot(cli) == database)
        let runs = try cli.run("runs", "list", "--json")
        #expect(!runs.stdout.contains("online-dpo"))
    }
}
