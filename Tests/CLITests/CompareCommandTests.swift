import Foundation
import Testing

@Suite struct CompareCommandTests {
    /// Columns are the metrics' logged names; a metric a run never logged is "—" (JSON: absent), never 0.
    @Test func aMetricARunNeverLoggedIsADashNotZero() throws {
        let cli = CommandRunner()
        let sft = try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "sft")
        #expect(sft.status == 0, "\(sft.stderr)")
        let ppo = try cli.run(
            "train", "ppo", "--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "0", "--name", "cart")
        #expect(ppo.status == 0, "\(ppo.stderr)")

        let json = try cli.run("compare", "sft", "cart", "--metric", "loss", "--json")
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        let sftLatest = try #require(rows[0]["latest"] as? [String: Double])
        let cartLatest = try #require(rows[1]["latest"] as? [String: Double])
        #expect(sftLatest["eval/exact_match"] != nil && cartLatest["eval/exact_match"] == nil)
        #expect(cartLatest["losses/approx_kl"] != nil && sftLatest["losses/approx_kl"] == nil)
        #expect(rows[0]["final_value"] is Double)
        #expect(rows[1]["final_value"] == nil)  // CartPole PPO logs no "loss"

        let table = try cli.run("compare", "sft", "cart", "--metric", "loss")
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        #expect(header.contains("eval/exact_match") && header.contains("losses/approx_kl"))
        #expect(!header.contains("KL "))
        let cartLine = try #require(lines.first { $0.hasPrefix("cart ") })
        #expect(cartLine.contains("loss —"))
        // The cell under eval/exact_match for the CartPole run is a dash.
        let column = try #require(header.range(of: "eval/exact_match")).lowerBound
        let offset = header.distance(from: header.startIndex, to: column)
        #expect(cartLine.dropFirst(offset).hasPrefix("—"))
    }

    /// The token trainers' step metrics get their own columns; a run that did not log one (SFT) shows "—".
    @Test func tokenStepMetricsHaveTheirOwnColumns() throws {
        let cli = CommandRunner()
        #expect(try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "sft")
            .status == 0)
        let grpo = try cli.run("train", "grpo", "--task", "sort", "--steps", "2", "--prompts", "2", "--samples", "4",
                               "--eval-prompts", "4", "--beta", "0.04", "--name", "grpo")
        #expect(grpo.status == 0, "\(grpo.stderr)")
        let json = try cli.run("compare", "grpo", "sft", "--json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let grpoLatest = try #require(rows[0]["latest"] as? [String: Double])
        let sftLatest = try #require(rows[1]["latest"] as? [String: Double])
        for metric in ["reward", "reward_std", "entropy", "completions/clipped_ratio", "kl"] {
            #expect(grpoLatest[metric] != nil && sftLatest[metric] == nil, "\(metric)")
        }
        let table = try cli.run("compare", "grpo", "sft")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        #expect(header.contains(" reward_std ") && header.contains(" entropy ") && header.contains(" kl "), "\(header)")
        let sftLine = try #require(lines.first { $0.hasPrefix("sft ") })
        let column = try #require(header.range(of: " entropy ")).lowerBound
        #expect(sftLine.dropFirst(header.distance(from: header.startIndex, to: column) + 1).hasPrefix("—"))
    }
}
