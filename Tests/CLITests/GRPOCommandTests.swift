import Foundation
import Testing
@testable import Store

/// `train grpo`'s presets and anti-collapse options through the real binary, and an ablation as a study
/// of `LABEL=grpo OPTION…` variants.
@Suite struct GRPOCommandTests {
    func config(_ cli: CommandRunner, run: String) throws -> [String: Any] {
        let store = try Store(path: cli.path("policylab.sqlite"))
        let json = try store.run(run).configJSON
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func presetsOptionsAndTheirMetrics() throws {
        let cli = CommandRunner()
        let small = ["--task", "sort", "--steps", "2", "--prompts", "2", "--samples", "4", "--eval-prompts", "8"]
        let trl = try cli.run(["train", "grpo", "--preset", "trl", "--name", "trl"] + small)
        #expect(trl.status == 0, "\(trl.stderr)")
        let trlConfig = try config(cli, run: "trl")
        let trlObjective = try #require(trlConfig["objective"] as? [String: Any])
        #expect(trlObjective["beta"] as? Double == 0 && trlObjective["lossType"] as? String == "dapo")
        #expect((trlConfig["entropyBonus"] as? [String: Any])?["coefficient"] as? Double == 0)
        #expect(trlConfig["dynamicSampling"] as? Bool == false && trlConfig["learningRate"] as? Double == 1e-3)
        #expect(trlConfig["keepSurplusGroups"] as? Bool == false)
        // The default keeps dynamic sampling's surplus groups; without dynamic sampling there is none to keep.
        let noDynamic = try cli.run(["train", "grpo", "--name", "no-dynamic", "--dynamic-sampling", "false"] + small)
        #expect(noDynamic.status == 0, "\(noDynamic.stderr)")
        #expect(try config(cli, run: "no-dynamic")["keepSurplusGroups"] as? Bool == false)

        let tuned = try cli.run(["train", "grpo", "--preset", "trl", "--name", "tuned", "--entropy-coef", "0.02",
                                 "--target-entropy", "0.4", "--epsilon-high", "0.28", "--dynamic-sampling", "true",
                                 "--mask-truncated-completions", "true", "--importance-sampling-level", "sequence",
                                 "--lr-scheduler-type", "cosine", "--warmup-ratio", "0.5", "--beta", "0.01",
                                 "--temperature", "1.1", "--learning-rate", "5e-4"] + small)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        let tunedConfig = try config(cli, run: "tuned")
        let entropy = try #require(tunedConfig["entropyBonus"] as? [String: Any])
        #expect(entropy["coefficient"] as? Double == 0.02 && entropy["targetEntropy"] as? Double == 0.4)
        let objective = try #require(tunedConfig["objective"] as? [String: Any])
        #expect(objective["epsilonHigh"] as? Double == 0.28 && objective["importanceSamplingLevel"] as? String
            == "sequence" && objective["beta"] as? Double == 0.01)
        #expect(tunedConfig["dynamicSampling"] as? Bool == true && tunedConfig["maskTruncatedCompletions"] as? Bool
            == true && tunedConfig["learningRateScheduler"] as? String == "cosine")
        #expect(tunedConfig["learningRate"] as? Double == 5e-4 && tunedConfig["warmupRatio"] as? Double == 0.5)

        // Every component is logged.
        let shown = try cli.run("runs", "show", "tuned", "--json")
        let latest = try #require(
            (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["latest_metrics"]
                as? [String: Double])
        for name in ["entropy", "entropy_coef", "completions/clipped_ratio", "dynamic_sampling/sampled_completions",
                     "dynamic_sampling/dropped_groups", "learning_rate", "kl"] {
            #expect(latest[name] != nil, "\(name) not logged")
        }

        // The default preset is not TRL's.
        #expect(try cli.run(["train", "grpo", "--name", "default"] + small).status == 0)
        #expect(NSDictionary(dictionary: try config(cli, run: "default")) != NSDictionary(dictionary: trlConfig))
        #expect(try config(cli, run: "default")["keepSurplusGroups"] as? Bool == true)
    }

    @Test func impossibleOptionsAreRefusedBeforeAnyWrite() throws {
        let cli = CommandRunner()
        let refusals: [[String]] = [
            ["--entropy-coef", "-0.1"], ["--target-entropy", "lots"], ["--target-entropy", "0"],
            ["--warmup-ratio", "0.1", "--lr-scheduler-type", "linear"], ["--max-num-gen-batches", "0"],
            ["--constant-lr", "--lr-scheduler-type", "cosine"], ["--importance-sampling-level", "word"],
            ["--dynamic-sampling", "maybe"], ["--preset", "nope"],
            ["--dynamic-sampling", "false", "--keep-surplus-groups", "true"],
        ]
        for extra in refusals {
            let result = try cli.run(["train", "grpo", "--task", "sort", "--steps", "1"] + extra)
            #expect(result.status == 64, "\(extra): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }

    @Test func anAblationIsAStudyOfLabelledVariants() throws {
        let cli = CommandRunner()
        let study = try cli.run(
            "study", "run", "abl", "--task", "sort", "--algorithms",
            "trl=grpo --preset trl,entropy=grpo --preset trl --entropy-coef 0.05", "--seeds", "1",
            "--budget", "completions=16", "--prompts", "2", "--samples", "4", "--", "--eval-prompts", "8")
        #expect(study.status == 0, "\(study.stderr)")
        let shown = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run("study", "show", "abl", "--json").stdout.utf8)) as? [String: Any])
        let configurations = try #require(shown["configurations"] as? [[String: Any]])
        #expect(configurations.compactMap { $0["configuration"] as? String } == ["trl", "entropy"])
        let entropy = try config(cli, run: "abl__entropy__1")
        #expect((entropy["entropyBonus"] as? [String: Any])?["coefficient"] as? Double == 0.05)
        #expect((try config(cli, run: "abl__trl__1")["entropyBonus"] as? [String: Any])?["coefficient"] as? Double
            == 0)
        let refused = try cli.run("study", "run", "bad", "--task", "sort", "--algorithms", "x=nope --steps 3",
                                  "--budget", "completions=64")
        #expect(refused.status == 64 && refused.stderr.contains("'nope' cannot run"), "\(refused.stderr)")
        let reserved = try cli.run("study", "run", "bad", "--task", "sort", "--algorithms", "x=grpo --seed 3",
                                   "--budget", "completions=64")
        #expect(reserved.status == 64 && reserved.stderr.contains("set by the study"), "\(reserved.stderr)")
    }
}
