import Foundation
import Testing

/// `policylab inspect` on token RL runs (issue 19 §3): all G completions of the logged prompts with reward,
/// advantage, length and truncation; token PPO's value estimate and per-token KL; curves over steps.
@Suite struct InspectCommandTests {
    @Test func inspectShowsEveryCompletionOfTheLoggedPromptsAndTheCurves() throws {
        let cli = CommandRunner()
        // TRL's setting: one generation batch per step, so the run has exactly 10 steps.
        let train = try cli.run("train", "grpo", "--preset", "trl", "--task", "sort", "--steps", "10", "--prompts", "2",
                                "--samples", "4", "--eval-prompts", "8", "--json")
        #expect(train.status == 0, "\(train.stderr)")
        let run = try #require(
            (try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])?["run"] as? String)

        let inspect = try cli.run("inspect", run, "--step", "10", "--json")
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(output["step"] as? Int == 10)
        #expect(output["sample_steps"] as? [Int] == [1, 10])
        let samples = try #require(output["samples"] as? [[String: Any]])
        let rollout = samples.filter { $0["source"] as? String == "rollout" }
        #expect(rollout.count == 2 * 4)
        #expect(rollout.allSatisfy {
            $0["reward"] is Double && $0["advantage"] is Double && $0["length"] is Int && $0["truncated"] is Bool
                && $0["value"] == nil && $0["token_kl"] == nil
        })
        #expect(samples.contains { $0["source"] as? String == "evaluation" })
        let curves = try #require(output["curves"] as? [[String: Any]])
        let entropy = try #require(curves.first { $0["metric"] as? String == "entropy" })
        #expect((entropy["values"] as? [Double])?.count == 10)

        let text = try cli.run("inspect", run)
        #expect(text.status == 0)
        for expected in ["reward ", "entropy ", "advantage", "truncated", "samples at step 10", "evaluation"] {
            #expect(text.stdout.contains(expected), "missing \(expected) in\n\(text.stdout)")
        }
        let show = try cli.run("runs", "show", run)
        #expect(show.stdout.contains("curves over steps") && show.stdout.contains("entropy "), "\(show.stdout)")

        let missing = try cli.run("inspect", run, "--step", "5")
        #expect(missing.status == 1 && missing.stderr.contains("steps with samples: 1, 10"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }

    @Test func tokenPPOSamplesCarryTheValueEstimateAndThePerTokenKL() throws {
        let cli = CommandRunner()
        let train = try cli.run("train", "token-ppo", "--task", "sort", "--steps", "2", "--prompts", "2",
                                "--samples", "2", "--ppo-epochs", "1", "--eval-prompts", "4", "--json")
        #expect(train.status == 0, "\(train.stderr)")
        let run = try #require(
            (try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])?["run"] as? String)
        let inspect = try cli.run("inspect", run, "--step", "1", "--json")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let samples = try #require(output["samples"] as? [[String: Any]])
        #expect(samples.count == 4)
        for sample in samples {
            let kl = try #require(sample["token_kl"] as? [Double])
            #expect(sample["value"] is Double && kl.count == sample["length"] as? Int)
        }
        let text = try cli.run("inspect", run, "--step", "1")
        #expect(text.stdout.contains("value") && text.stdout.contains("per-token KL"), "\(text.stdout)")
    }
}
