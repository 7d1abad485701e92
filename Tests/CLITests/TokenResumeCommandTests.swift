import Foundation
import Store
import Testing

/// `train sft|dpo|kto|reward-model|token-ppo|online-dpo --resume RUN` on real processes: a run killed with
/// kill -9 after a checkpoint continues, with the dataset and reference its record names, to the metric rows
/// and weights of the run that was never stopped; refusals write nothing. (`TokenResumeTests` checks every
/// trainer's restore on small shapes.)
@Suite struct TokenResumeCommandTests {
    /// Runs `command` whole, and killed after its first checkpoint then resumed: the same rows and weights.
    func expectResumes(_ cli: CommandRunner, _ command: String, _ settings: [String]) throws {
        let resume = ResumeCommandTests()
        let whole = try cli.run(["train", command] + settings + ["--name", "\(command)-whole", "--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let cut = "\(command)-cut"
        let killed = try resume.killAfterFirstCheckpoint(cli, ["train", command] + settings + ["--name", cut], run: cut)
        try #require(killed, "the \(command) run finished before it could be killed")
        let resumed = try cli.run("train", command, "--resume", cut, "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let expected = try resume.outcome(cli, "\(command)-whole"), got = try resume.outcome(cli, cut)
        #expect(!expected.rows.isEmpty && got.rows == expected.rows, "\(command)")
        #expect(got.weights == expected.weights, "\(command)")
    }

    /// A reference run (one SFT step) and a preference dataset on `sort`.
    func referenceAndPairs(_ cli: CommandRunner) throws {
        let reference = try cli.run("train", "sft", "--task", "sort", "--steps", "1", "--batch-size", "2",
                                    "--name", "base", "--json")
        #expect(reference.status == 0, "\(reference.stderr)")
        let pairs = try cli.run("data", "generate", "--task", "sort", "--kind", "preference", "--count", "40",
                                "--name", "pairs")
        #expect(pairs.status == 0, "\(pairs.stderr)")
    }

    /// Each command's settings: small, with a checkpoint early and enough steps after it to be killed.
    static let settings: [(command: String, arguments: [String])] = [
        ("sft", ["--task", "sort", "--steps", "30", "--batch-size", "4", "--eval-interval", "2"]),
        ("token-ppo", [
            "--task", "sort", "--steps", "40", "--prompts", "2", "--samples", "2", "--ppo-epochs", "1",
            "--eval-prompts", "4", "--eval-interval", "2",
        ]),
        ("dpo", ["--dataset", "pairs", "--ref", "base", "--steps", "30", "--batch-size", "4", "--eval-interval", "2"]),
        ("kto", ["--dataset", "pairs", "--ref", "base", "--steps", "30", "--batch-size", "4", "--eval-interval", "2"]),
        // The reward model checkpoints every 100 steps.
        ("reward-model", ["--dataset", "pairs", "--init", "base", "--steps", "400", "--batch-size", "4"]),
        ("online-dpo", [
            "--task", "sort", "--ref", "base", "--steps", "40", "--prompts", "2", "--eval-prompts", "4",
            "--eval-interval", "2",
        ]),
    ]

    @Test(arguments: settings.indices)
    func aRunKilledWithKill9ResumesToTheUninterruptedRun(index: Int) throws {
        let (command, arguments) = Self.settings[index]
        let cli = CommandRunner()
        try referenceAndPairs(cli)
        try expectResumes(cli, command, arguments)
        if command == "token-ppo" {
            // Its value network came back from the checkpoint's state; its run still samples.
            let sample = try cli.run("sample", "token-ppo-cut", "--prompt", "301245=", "--json")
            #expect(sample.status == 0, "\(sample.stderr)")
        }
    }

    /// A finished run, a run of another algorithm and an unknown run are refused in one line with exit 1, an
    /// option beside --resume as a usage error (64, as `train ppo|grpo`); none of them writes.
    @Test func refusalsWriteNothing() throws {
        let cli = CommandRunner()
        try referenceAndPairs(cli)
        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        for (arguments, status, words) in [
            (["train", "sft", "--resume", "base"], Int32(1), "finished"),
            (["train", "dpo", "--resume", "base"], 1, "is a sft run"),
            (["train", "kto", "--resume", "nothing"], 1, "nothing"),
            (["train", "reward-model", "--resume", "base", "--steps", "3"], 64, "--steps cannot go with --resume"),
            (["train", "online-dpo", "--resume", "base", "--ref", "base"], 64, "--ref cannot go with --resume"),
            (["train", "token-ppo", "--resume", "base", "--kl-coef", "0.1"], 64, "--kl-coef cannot go with --resume"),
        ] {
            let result = try cli.run(arguments)
            #expect(result.status == status && result.stderr.contains(words), "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").count
            if status == 1 { #expect(lines == 1, "\(arguments): \(result.stderr)") }
            #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before, "\(arguments)")
        }
    }
}
