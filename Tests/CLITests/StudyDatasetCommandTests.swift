import Foundation
import Testing
@testable import Store

/// `policylab study run --dataset …` (the preference trainers on the same pairs) and studies of SFT, through the
/// real binary at budgets of two steps.
@Suite struct StudyDatasetCommandTests {
    /// The database file and its WAL's frames (an empty WAL counts as none), as RefusedCommandTests compares them.
    private func snapshot(_ cli: CommandRunner) -> [Data?] {
        let database = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let wal = FileManager.default.contents(atPath: cli.path("policylab.sqlite-wal"))
        return [database, wal?.isEmpty == false ? wal : nil]
    }

    @Test func aDatasetStudyGivesEveryPreferenceTrainerTheSamePairs() throws {
        let cli = CommandRunner()
        let sft = try cli.run(
            "train", "sft", "--task", "sort", "--steps", "4", "--batch-size", "8", "--eval-interval", "4",
            "--name", "base")
        #expect(sft.status == 0, "\(sft.stderr)")
        let pairs = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "preference", "--count", "64", "--name", "pairs")
        #expect(pairs.status == 0, "\(pairs.stderr)")
        let study = try cli.run(
            "study", "run", "pref", "--dataset", "pairs", "--init", "base", "--algorithms",
            "dpo,ipo=dpo --loss ipo,simpo=dpo --loss simpo,kto,online-dpo", "--seeds", "1", "--budget", "pairs=16",
            "--batch-size", "8", "--task", "sort", "--", "--eval-interval", "0")
        #expect(study.status == 0, "\(study.stderr)")
        #expect(study.stdout.contains("pairs=16 (2 steps of 8 pairs; KTO: 16 rows"), "\(study.stdout)")

        let shown = try StudyCommandTests.json(try cli.run("study", "show", "pref", "--json").stdout)
        #expect(shown["metrics"] as? [String] == [
            "eval/exact_match", "eval/reward", "eval/preference_accuracy", "eval/label_accuracy", "wall_seconds",
        ])
        let runs = try #require(shown["runs"] as? [[String: Any]])
        #expect(runs.count == 5 && runs.allSatisfy { $0["status"] as? String == "finished" })
        for run in runs {
            let metrics = try #require(run["metrics"] as? [String: Double])
            let configuration = try #require(run["configuration"] as? String)
            let isKTO = configuration == "kto", isOnline = configuration == "online-dpo"
            // 16 pairs for every run: KTO counts each pair's two rows, online DPO each pair's two completions.
            #expect(run["samples_seen"] as? Int == (isKTO || isOnline ? 32 : 16), "\(run)")
            // One definition per column: KTO's label accuracy is not a preference accuracy, and the other way
            // round; online DPO has no held-out pairs.
            #expect((metrics["eval/preference_accuracy"] == nil) == (isKTO || isOnline), "\(run)")
            #expect((metrics["eval/label_accuracy"] != nil) == isKTO, "\(run)")
            #expect(metrics["eval/exact_match"] != nil)
        }
        let store = try Store(path: cli.path("policylab.sqlite"))
        let base = try store.run("base")
        for (run, algorithm) in [("pref__dpo__1", "dpo"), ("pref__ipo__1", "dpo"), ("pref__simpo__1", "simpo"),
                                 ("pref__kto__1", "kto"), ("pref__online-dpo__1", "online-dpo")] {
            let record = try store.run(run)
            #expect(record.algorithm == algorithm && record.parentRunID == base.id, "\(run)")
        }
        #expect(try store.run("pref__ipo__1").configJSON.contains("ipo"))
        #expect(try store.run("pref__kto__1").configJSON.contains("\"batchSize\":16"))
        // Online DPO samples 8 prompts × 2 completions per step: 8 pairs, as DPO's batch.
        #expect(try store.run("pref__online-dpo__1").configJSON.contains("\"promptsPerStep\":8"))
    }

    @Test func sftStudiesCountSequencesOnFreshPromptsOrAPromptDataset() throws {
        let cli = CommandRunner()
        let fresh = try cli.run(
            "study", "run", "sft", "--task", "sort", "--algorithms", "sft", "--seeds", "1,2", "--budget",
            "sequences=16", "--batch-size", "8", "--", "--eval-interval", "0")
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stdout.contains("sequences=16 (2 steps of 8 sequences)"), "\(fresh.stdout)")
        let prompts = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "prompt", "--count", "8", "--name", "prompts")
        #expect(prompts.status == 0, "\(prompts.stderr)")
        let stored = try cli.run(
            "study", "run", "sft-data", "--dataset", "prompts", "--task", "sort", "--algorithms", "sft", "--seeds",
            "1", "--budget", "sequences=16", "--batch-size", "8", "--", "--eval-interval", "0")
        #expect(stored.status == 0, "\(stored.stderr)")
        for name in ["sft", "sft-data"] {
            let shown = try StudyCommandTests.json(try cli.run("study", "show", name, "--json").stdout)
            #expect(shown["metrics"] as? [String] == ["eval/exact_match", "eval/reward", "wall_seconds"])
            let runs = try #require(shown["runs"] as? [[String: Any]])
            #expect(!runs.isEmpty && runs.allSatisfy { $0["samples_seen"] as? Int == 16 }, "\(runs)")
        }
        let store = try Store(path: cli.path("policylab.sqlite"))
        #expect(try store.run("sft-data__sft__1").datasetID == (try store.dataset(named: "prompts").id))
        #expect(try store.run("sft__sft__2").datasetID == nil)
    }

    @Test func refusedDatasetStudiesLeaveTheDatabaseUnchanged() throws {
        let cli = CommandRunner()
        let pairs = try cli.run(
            "data", "generate", "--task", "sort", "--kind", "preference", "--count", "16", "--name", "pairs")
        #expect(pairs.status == 0, "\(pairs.stderr)")
        let before = snapshot(cli)
        let dpo = ["--dataset", "pairs", "--algorithms", "dpo"]
        let refusals: [([String], Int32, String)] = [
            (dpo + ["--budget", "pairs=64"], 64, "need --init"),
            (dpo + ["--budget", "pairs=100", "--init", "x"], 64, "not a multiple of --batch-size 64"),
            (dpo + ["--budget", "completions=64", "--init", "x"], 64, "pairs=N"),
            (dpo + ["--budget", "seconds=5", "--init", "x"], 64, "no seconds="),
            (["--dataset", "pairs", "--algorithms", "dpo,sft", "--budget", "pairs=64", "--init", "x"], 64,
             "two studies"),
            (["--dataset", "pairs", "--algorithms", "grpo", "--budget", "pairs=64", "--init", "x"], 64,
             "'grpo' cannot run"),
            (dpo + ["--budget", "pairs=64", "--init", "x", "--prompts", "2"], 64, "--prompts and --samples"),
            (dpo + ["--budget", "pairs=64", "--init", "x", "--", "--ref", "y"], 64, "set by the study"),
            (dpo + ["--budget", "pairs=64", "--init", "x", "--task", "sort"], 64, "--task is for sft and online-dpo"),
            (["--dataset", "pairs", "--algorithms", "dpo,online-dpo", "--budget", "pairs=64", "--init", "x"], 64,
             "give --task"),
            (["--task", "sort", "--algorithms", "sft", "--budget", "completions=64"], 64, "sequences=N"),
            (["--task", "sort", "--algorithms", "sft,grpo", "--budget", "sequences=64"], 64, "two studies"),
            (["--task", "sort", "--algorithms", "grpo", "--budget", "completions=64", "--batch-size", "8"], 64,
             "--batch-size is for"),
            (["--dataset", "nope", "--algorithms", "dpo", "--budget", "pairs=64", "--init", "x"], 1, "no run"),
        ]
        for (arguments, status, message) in refusals {
            let result = try cli.run(["study", "run", "s"] + arguments)
            #expect(result.status == status && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(snapshot(cli) == before)
        let sft = try cli.run(
            "train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "8", "--eval-interval", "0",
            "--name", "base")
        #expect(sft.status == 0, "\(sft.stderr)")
        let afterSFT = snapshot(cli)
        for (dataset, message) in [("nope", "no dataset"), ("pairs", "needs prompt rows")] {
            let algorithms = dataset == "pairs" ? "sft" : "dpo"
            var arguments = ["study", "run", "s", "--dataset", dataset, "--algorithms", algorithms]
            arguments += algorithms == "sft" ? ["--task", "sort", "--budget", "sequences=64"]
                : ["--budget", "pairs=64", "--init", "base"]
            let result = try cli.run(arguments)
            #expect(result.status == 1 && result.stderr.contains(message), "\(dataset): \(result.stderr)")
        }
        #expect(snapshot(cli) == afterSFT)
        #expect(before != afterSFT)
    }
}
