import Foundation
import Testing

/// `train grpo|rloo|token-ppo|online-dpo --dataset PROMPTS --reward …` through the real binary: training
/// prompts from an imported prompt dataset, a weighted reward of the task's verifier, a reward model and the
/// length, each component logged, and bad input refused before anything is written.
@Suite struct StoredPromptRLCommandTests {
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

    /// An imported prompt file (no task recorded): 200 `sort` prompts exported from a generated dataset.
    func importPrompts(_ cli: CommandRunner) throws {
        #expect(try cli.run("data", "generate", "--task", "sort", "--kind", "prompt", "--count", "200",
                            "--name", "generated").status == 0)
        let file = cli.path("prompts.jsonl")
        #expect(try cli.run("data", "export", "generated", "--out", file).status == 0)
        let imported = try cli.run("data", "import", file, "--name", "imported")
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    @Test func grpoTrainsOnImportedPromptsWithAWeightedRewardLoggingEachComponent() throws {
        let cli = CommandRunner()
        try importPrompts(cli)
        #expect(try cli.run("data", "generate", "--task", "sort", "--kind", "preference", "--count", "32",
                            "--name", "pairs").status == 0)
        let rewardModel = try cli.run("train", "reward-model", "--dataset", "pairs", "--steps", "2",
                                      "--batch-size", "8", "--name", "rm")
        #expect(rewardModel.status == 0, "\(rewardModel.stderr)")
        let grpo = try cli.run("train", "grpo", "--dataset", "imported", "--task", "sort",
                               "--reward", "task:1,rm:rm:0.5,length:-0.05", "--steps", "3", "--prompts", "2",
                               "--samples", "4", "--eval-prompts", "8", "--name", "weighted", "--json")
        #expect(grpo.status == 0, "\(grpo.stderr)")
        let latest = try latestMetrics(cli, run: "weighted")
        for component in ["task", "rm", "length"] {
            #expect(latest["rewards/\(component)/mean"] != nil && latest["rewards/\(component)/std"] != nil,
                    "\(component) not logged")
        }
        // The reward is the weighted sum, so its mean is the weighted sum of the components' means.
        let combined = latest["rewards/task/mean"]! + 0.5 * latest["rewards/rm/mean"]!
            - 0.05 * latest["rewards/length/mean"]!
        #expect(abs(latest["reward"]! - combined) < 1e-9, "reward \(latest["reward"]!) vs \(combined)")
        #expect(latest["eval/exact_match"] != nil)

        // The run records its dataset and reward.
        let shown = try cli.run("runs", "show", "weighted", "--json")
        #expect(shown.stdout.contains("task:1,rm:rm:0.5,length:-0.05") && shown.stdout.contains("imported"))

        // A generated dataset records its task; --reward RUN still means the reward model alone.
        for algorithm in ["rloo", "token-ppo"] {
            let run = try cli.run("train", algorithm, "--dataset", "generated", "--reward", "rm", "--steps", "2",
                                  "--prompts", "2", "--samples", "2", "--eval-prompts", "4", "--name", algorithm)
            #expect(run.status == 0, "\(algorithm): \(run.stderr)")
            #expect(try latestMetrics(cli, run: algorithm)["rewards/rm/mean"] != nil)
        }
        let online = try cli.run("train", "online-dpo", "--dataset", "generated", "--ref", "rloo", "--reward",
                                 "task:1,length:-0.1", "--steps", "2", "--prompts", "2", "--eval-prompts", "4",
                                 "--name", "online")
        #expect(online.status == 0, "\(online.stderr)")
        #expect(try latestMetrics(cli, run: "online")["rewards/length/mean"] != nil)
    }

    @Test func badSourcesAreRefusedBeforeAnyWrite() throws {
        let cli = CommandRunner()
        try importPrompts(cli)
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4",
                            "--name", "base").status == 0)
        #expect(try cli.run("data", "generate", "--task", "sort", "--kind", "preference", "--count", "8",
                            "--name", "pairs").status == 0)
        let short = ["--steps", "1", "--prompts", "2", "--samples", "2"]
        for arguments in [["--reward", "task:x"], ["--reward", "task,task"], ["--reward", "length"],
                          ["--reward", "rm:"], ["--reward", "bogus:1"], []] {
            let result = try cli.run(["train", "grpo"] + arguments + short)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
        let before = snapshot(cli)
        let refused: [[String]] = [
            ["--dataset", "imported"],                                   // no task recorded, none given
            ["--dataset", "pairs"],                                      // not prompts
            ["--dataset", "no-such-dataset"],
            ["--task", "sort", "--reward", "rm:base:0.5"],               // not a reward model
            ["--task", "sort", "--reward", "base"],
        ]
        for arguments in refused {
            let result = try cli.run(["train", "grpo"] + arguments + short)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(snapshot(cli) == before, "\(arguments) changed the database file")
        }
    }
}
