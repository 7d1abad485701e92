import Foundation
import Testing

@Suite struct LabCommandTests {
    @Test func generateDPOAndTokenRLThenCompareWithAnSVGChart() throws {
        let cli = CommandRunner()
        #expect(
            try cli.run("train", "sft", "--task", "sort", "--steps", "20", "--batch-size", "16", "--name", "base")
                .status == 0)
        let generate = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "preference", "--count", "64", "--name", "pairs")
        #expect(generate.status == 0, "\(generate.stderr)")
        let dpo = try cli.run(
            "train", "dpo", "--dataset", "pairs", "--ref", "base", "--steps", "5", "--batch-size", "8", "--name", "dpo",
            "--json")
        #expect(dpo.status == 0, "\(dpo.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(dpo.stdout.utf8)) as! [String: Any]
        #expect(summary["held_out_accuracy"] is Double)
        for algorithm in ["grpo", "rloo"] {
            let r = try cli.run(
                "train", algorithm, "--task", "sort", "--init", "base", "--steps", "3", "--eval-prompts", "8", "--name",
                algorithm)
            #expect(r.status == 0, "\(algorithm): \(r.stderr)")
        }
        let ppo = try cli.run(
            "train", "token-ppo", "--task", "sort", "--init", "base", "--steps", "2", "--ppo-epochs", "1",
            "--eval-prompts", "8", "--name", "ppo")
        #expect(ppo.status == 0, "\(ppo.stderr)")
        let compare = try cli.run("compare", "grpo", "ppo", "rloo", "--svg", cli.path("chart.svg"))
        #expect(compare.status == 0, "\(compare.stderr)")
        let header = compare.stdout.split(separator: "\n").first ?? ""
        #expect(header.contains("eval/exact_match") && compare.stdout.contains("grpo"))
        let svg = try String(contentsOfFile: cli.path("chart.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 4)
        let json = try cli.run("compare", "grpo", "ppo", "--json")
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        #expect(rows.map { $0["samples_seen"] as? Int } == [3 * 64, 2 * 64])
    }

    @Test func trainingRefusesTheWrongInputsAtOnce() throws {
        let cli = CommandRunner()
        #expect(
            try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "base").status
                == 0)
        #expect(
            try cli.run("data", "generate", "--task", "sort", "--kind", "prompt", "--count", "8", "--name", "prompts")
                .status == 0)
        let missing = try cli.run("train", "dpo", "--dataset", "nope", "--ref", "base")
        #expect(missing.status == 1 && missing.stderr.contains("policylab data list"))
        let wrongKind = try cli.run("train", "dpo", "--dataset", "prompts", "--ref", "base")
        #expect(wrongKind.status == 1 && wrongKind.stderr.contains("preference"))
        #expect(
            try cli.run(
                "train", "ppo", "--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "0", "--name",
                "cart"
            ).status == 0)
        let notTokens = try cli.run("train", "grpo", "--task", "sort", "--init", "cart", "--steps", "1")
        #expect(notTokens.status == 1 && notTokens.stderr.contains("token policy"))
        let notRewardModel = try cli.run("train", "grpo", "--task", "sort", "--reward", "base", "--steps", "1")
        #expect(notRewardModel.status == 1 && notRewardModel.stderr.contains("not a reward model"))
        #expect(try cli.run("train", "reward-model", "--dataset", "prompts").status == 1)
        #expect(try cli.run("train", "grpo", "--task", "sort", "--samples", "1").status == 64)
        #expect(try cli.run("train", "grpo", "--task", "sort", "--beta", "-1").status == 64)
        #expect(try cli.run("train", "grpo", "--task", "sort", "--loss-type", "nope").status == 64)
        #expect(try cli.run("train", "grpo", "--task", "sort", "--max-grad-norm", "0").status == 64)
        #expect(try cli.run("train", "ppo", "--env", "CartPole-v1", "--task", "sort").status == 64)
    }

    @Test func verifyPolicyGradientPassesAndPrintsJSON() throws {
        let cli = CommandRunner()
        let result = try cli.run("verify", "policy-gradient", "--episodes", "3000", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect((object["finite_difference_relative_error"] as! Double) < 1e-6)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count >= 10 && checks.allSatisfy { $0["passed"] as? Bool == true })
    }

    @Test func quickDemoRunsEndToEnd() throws {
        let cli = CommandRunner()
        let result = try cli.run("demo", "--quick")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Try next"))
        #expect(FileManager.default.fileExists(atPath: cli.path("policylab-report.svg")))
        let runs = try cli.run("runs", "list", "--json")
        let list = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as! [[String: Any]]
        // SFT, DPO, the study's 3 algorithms × 3 seeds, CartPole.
        #expect(list.count == 12 && list.allSatisfy { $0["status"] as? String == "finished" })
        #expect(result.stdout.contains("which differences are significant"))
        for pair in ["grpo − token-ppo", "grpo − rloo", "token-ppo − rloo"] {
            #expect(result.stdout.contains("eval/reward \(pair):"), "\(pair)")
        }
        #expect(try cli.run("study", "list").stdout.contains("9/9"))
    }
}
