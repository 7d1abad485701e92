import Foundation
import Testing

/// The continuing task and the lab's habits of issue 23: `train ac-average-reward`, `verify average-reward`,
/// `eval`, `runs export`.
@Suite struct TheoryCommandTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func averageRewardActorCriticRunsAndRefusesEpisodicTasks() throws {
        let cli = CommandRunner()
        let result = try cli.run(
            "train", "ac-average-reward", "--total-steps", "3000", "--eval-steps", "2000", "--name", "queue", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try json(result.stdout)
        let optimum = try #require(summary["optimal_average_reward"] as? Double)
        #expect(abs(optimum - 2.7476419505724805) < 1e-9)
        #expect((summary["eval_average_reward"] as? Double).map { $0 > 0 } == true)
        let export = try cli.run("runs", "export", "queue", "--format", "csv", "--metric", "average_reward")
        #expect(export.status == 0, "\(export.stderr)")
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.first == "run,step,samples_seen,metric,value")
        #expect(lines.count == 1 + 3 + 1)  // header, every 1000 steps, and the final row
        #expect(lines[1].hasPrefix("queue,1000,1000,average_reward,"))
        #expect(try cli.run("train", "ac-average-reward", "--env", "CartPole-v1").status == 64)
        #expect(try cli.run("train", "ac-average-reward", "--average-reward-step-size", "0").status == 64)
        // Continuing tasks have no episodes to evaluate; the refusal names why.
        let eval = try cli.run("eval", "queue")
        #expect(eval.status == 1 && eval.stderr.contains("continuing"))
    }

    @Test func verifyAverageRewardPasses() throws {
        let result = try CommandRunner().run("verify", "average-reward", "--simulation-steps", "100000", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try json(result.stdout)
        #expect((report["checks"] as? [[String: Any]])?.count == 5)
        #expect((report["finite_difference_maximum_error"] as? Double).map { $0 <= 1e-6 } == true)
    }

    @Test func evalRepeatsTheTrainersEvaluationAndStoresIt() throws {
        let cli = CommandRunner()
        let train = try cli.run(
            "train", "ppo", "--env", "CartPole-v1", "--total-steps", "2048", "--eval-episodes", "3", "--seed", "4",
            "--name", "pole", "--json")
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try json(train.stdout)
        let eval = try cli.run("eval", "pole", "--episodes", "3", "--json")
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try json(eval.stdout)
        let results = try #require(report["results"] as? [String: Double])
        // Same seed, same episodes, greedy: the trainer's final evaluation, exactly.
        #expect(results["eval/return_mean"] == trained["eval_return_mean"] as? Double)
        let sampled = try json(
            try cli.run("eval", "pole", "--episodes", "3", "--sample", "--seed", "9", "--json").stdout)
        #expect((sampled["settings"] as? [String: String])?["actions"] == "sampled")
        #expect(try cli.run("eval", "pole", "--prompts", "5").status == 1)
        #expect(try cli.run("eval", "pole", "--greedy", "--sample").status == 64)

        let sft = try cli.run(
            "train", "sft", "--task", "sort", "--steps", "3", "--batch-size", "4", "--name", "sft", "--json")
        #expect(sft.status == 0, "\(sft.stderr)")
        let sftSummary = try json(sft.stdout)
        let tokens = try json(try cli.run("eval", "sft", "--json").stdout)
        let tokenResults = try #require(tokens["results"] as? [String: Double])
        #expect(tokenResults["eval/exact_match"] == sftSummary["exact_match"] as? Double)
        #expect(tokenResults["eval/reward"] == sftSummary["mean_reward"] as? Double)
        let hot = try cli.run("eval", "sft", "--temperature", "1.5", "--prompts", "16", "--json")
        #expect(hot.status == 0, "\(hot.stderr)")
        let nucleus = try cli.run("sample", "sft", "--prompt", "315204=", "-n", "3", "--top-p", "0.9", "--json")
        #expect(nucleus.status == 0, "\(nucleus.stderr)")
        #expect(try cli.run("sample", "sft", "--prompt", "315204=", "--top-p", "0").status == 64)
        #expect(try cli.run("sample", "sft", "--prompt", "315204=", "--greedy", "--top-p", "0.5").status == 64)

        let jsonl = try cli.run("runs", "export", "pole", "--format", "jsonl")
        let first = try json(String(try #require(jsonl.stdout.split(separator: "\n").first)))
        #expect(first["run"] as? String == "pole" && first["metric"] != nil && first["samples_seen"] != nil)
        #expect(try cli.run("runs", "export", "pole", "--format", "csv", "--metric", "no/such").status == 1)
        #expect(try cli.run("runs", "export", "pole", "--format", "xml").status == 64)
    }
}
