import Foundation
import Testing

@Suite struct TokenCommandTests {
    @Test func sftThenSampleAndInspectThroughTheRealCLI() throws {
        let cli = CommandRunner()
        let train = try cli.run("train", "sft", "--task", "sort", "--steps", "40", "--batch-size", "16",
                                "--eval-interval", "20", "--json")
        #expect(train.status == 0, "\(train.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as! [String: Any]
        let run = summary["run"] as! String
        #expect(summary["exact_match"] != nil && summary["completions"] as? Int == 640)

        let sample = try cli.run("sample", run, "--prompt", "315204=", "-n", "3", "--json")
        #expect(sample.status == 0, "\(sample.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(sample.stdout.utf8)) as! [String: Any]
        let completions = output["completions"] as! [[String: Any]]
        #expect(completions.count == 3)
        #expect(completions.allSatisfy { $0["logprob"] is Double && $0["reward"] is Double })

        let inspect = try cli.run("inspect", run, "--json")
        let inspected = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [String: Any]
        #expect(inspected["sample_steps"] as? [Int] == [20, 40])
        let samples = inspected["samples"] as! [[String: Any]]
        #expect(!samples.isEmpty)
        #expect(samples.allSatisfy { $0["step"] as? Int == 40 && $0["source"] as? String == "evaluation" })
        #expect(try cli.run("inspect", run, "--step", "20").stdout.contains("samples at step 20"))

        let bad = try cli.run("sample", run, "--prompt", "31+2=")
        #expect(bad.status == 1 && bad.stderr.contains("not in the vocabulary"))
        let long = try cli.run("sample", run, "--prompt", String(repeating: "1", count: 80))
        #expect(long.status == 1 && long.stderr.contains("context"))
        #expect(try cli.run("sample", "no-such-run", "--prompt", "1=").status == 1)
    }

    /// PPO on a task is its own command; every command refuses the options it would not use.
    @Test func tokenPPOIsItsOwnCommandAndUnusedOptionsAreRefused() throws {
        let cli = CommandRunner()
        let redirected = try cli.run("train", "ppo", "--task", "sort")
        #expect(redirected.status == 64 && redirected.stderr.contains("train token-ppo --task sort"),
                "\(redirected.stderr)")
        #expect(try cli.run("train", "token-ppo", "--task", "sort", "--num-envs", "4").status == 64)
        #expect(try cli.run("train", "ppo", "--env", "CartPole-v1", "--kl-coef", "0.1").status == 64)
        let shape = try cli.run("train", "grpo", "--task", "sort", "--init", "base", "--model-width", "32")
        #expect(shape.status == 64 && shape.stderr.contains("--init"), "\(shape.stderr)")
        let smoothing = try cli.run("train", "dpo", "--dataset", "d", "--ref", "r", "--label-smoothing", "0.1")
        #expect(smoothing.status == 64 && smoothing.stderr.contains("robust"), "\(smoothing.stderr)")
        let help = try cli.run("train", "token-ppo", "--help")
        #expect(help.stdout.contains("--kl-coef") && !help.stdout.contains("--num-envs"))
        let ppoHelp = try cli.run("train", "ppo", "--help")
        #expect(ppoHelp.stdout.contains("--num-envs") && !ppoHelp.stdout.contains("--kl-coef"))
    }
}
