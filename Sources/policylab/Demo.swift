import ArgumentParser
import Foundation
import Policies
import Randomness
import Store
import Tasks
import Training

extension PolicyLab {
    /// `policylab demo`: the lab end to end on built-in data.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the lab end to end: import the shipped datasets, SFT → DPO, a study of GRPO vs token PPO "
                + "vs RLOO from the SFT policy on `sort` (3 seeds each), PPO on CartPole, then compare.",
            discussion: "Everything is recorded in the database; the comparison chart is written next to it as an SVG "
                + "report.")

        @Flag(help: "A sub-minute version (smaller budgets).") var quick = false
        @Option(help: "Seed of every run.") var seed: UInt64 = 1
        @OptionGroup var options: GlobalOptions

        func say(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }

        func run() throws {
            let started = ContinuousClock.now
            let store = try Store(path: options.databasePath)
            // Run names carry the wall-clock time, so that demos in one database do not collide.
            let stamp = Int(Date().timeIntervalSince1970)
            func runName(_ what: String) -> String { "demo-\(stamp)-\(what)" }

            // 1. Data: the shipped JSONL files and generated preference pairs.
            say("[1/6] datasets")
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let shipped = [
                ("sort-prompts.jsonl", "demo-sort-prompts"), ("sort-preferences.jsonl", "demo-sort-preferences"),
            ]
            for (file, name) in shipped {
                let path = root.appendingPathComponent("datasets/\(file)").path
                if let data = FileManager.default.contents(atPath: path) {
                    let rows = try DatasetJSONL.parse([UInt8](data), file: path)
                    try store.insertDataset(name: name, rows: rows, task: "sort", source: path, replace: true)
                    say("      imported \(rows.count) rows from datasets/\(file) as '\(name)'")
                }
            }
            var generator = SeededGenerator(seed: seed)
            let pairs = makePreferencePairs(task: try SortTask(), count: quick ? 600 : 2000, using: &generator)
            try store.insertDataset(
                name: "demo-sort-generated-pairs",
                rows: .preferences(
                    pairs.map {
                        PreferencePair(
                            prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected, chosenScore: $0.chosenScore,
                            rejectedScore: $0.rejectedScore)
                    }), task: "sort", source: "generated", replace: true)

            // 2. A partly trained SFT policy: the common start of DPO, GRPO, PPO and RLOO.
            say("[2/6] SFT on sort (partly trained, so the RL runs have room to improve)")
            var sft = SFTTrainerConfig(task: "sort")
            sft.seed = seed
            sft.steps = quick ? 25 : 40
            sft.batchSize = 32
            sft.evaluationInterval = 0
            let sftSpec = RunSpec(
                name: runName("sft"), algorithm: "sft", target: "sort", configJSON: configJSON(sft),
                seed: seed)
            let sftRun = try record(store, sftSpec) { recorder in
                try SFTTrainer(config: sft).train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            let (_, sftPolicy) = try loadPolicy(run: sftRun.name, store: store)

            // 3. DPO from the SFT policy on the generated pairs.
            say(
                "[3/6] DPO (+ RPO NLL term, α = 1) from the SFT policy on \(pairs.count) generated preference "
                    + "pairs")
            var dpo = DPOTrainerConfig(task: "sort")
            dpo.seed = seed
            // Plain DPO lowers the greedy reward of this SFT policy (the chosen answers' likelihood falls
            // too); the RPO term keeps it (see README).
            dpo.rpoAlpha = 1
            dpo.steps = quick ? 60 : 300
            dpo.evaluationInterval = 0
            let examples = pairs.map { PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
            let dpoTrainer = try DPOTrainer(config: dpo, pairs: examples, reference: sftPolicy)
            let dpoSpec = RunSpec(
                name: runName("dpo"), algorithm: "dpo", target: "sort", parentRunID: sftRun.id,
                configJSON: configJSON(dpo), seed: seed)
            let dpoRun = try record(store, dpoSpec) { recorder in
                try dpoTrainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }

            // 4. GRPO vs token PPO vs RLOO from the SFT policy: a study, every run at the same completion
            // budget from its own copy of the SFT weights, over three seeds, so a difference can be told
            // from seed noise.
            let steps = quick ? 40 : 200
            let studyName = runName("rl")
            let studySeeds = "\(seed)-\(seed + UInt64(Self.studySeeds) - 1)"
            say("[4/6] study \(studyName): GRPO, token PPO and RLOO from the SFT policy, \(steps * 64) completions "
                + "each, seeds \(studySeeds)")
            let study = try PolicyLab.Study.RunStudy.parse([
                studyName, "--task", "sort", "--algorithms", "grpo,token-ppo,rloo", "--seeds", studySeeds,
                "--budget", "completions=\(steps * 64)", "--init", sftRun.name, "--db", options.databasePath,
                "--", "--eval-prompts", "128", "--eval-interval", quick ? "0" : "50",
            ])
            try study.run()
            // 5. PPO on CartPole.
            say("[5/6] PPO on CartPole-v1")
            var cartPole = ControlPPOConfig.defaults(for: "CartPole-v1")
            cartPole.seed = seed
            if quick { cartPole.totalSteps = 25_600; cartPole.evaluationEpisodes = 5 }
            let cartPoleRun = try record(
                store,
                RunSpec(
                    name: runName("cartpole-ppo"), algorithm: "ppo", target: "CartPole-v1",
                    configJSON: configJSON(cartPole), seed: seed)
            ) { recorder in
                try ControlPPOTrainer(config: cartPole).train(
                    events: recorder.handle, shouldStop: { Interruption.requested })
            }

            // 6. The study's summary, which differences are significant, and the report.
            say("[6/6] comparison")
            let report = URL(fileURLWithPath: options.databasePath).deletingPathExtension().path + "-report.svg"
            let show = try PolicyLab.Study.Show.parse(
                [studyName, "--db", options.databasePath, "--svg", report, "--metric", "reward"])
            try show.run()
            print("")
            print(try significanceSummary(study: studyName, store: store))
            print("")
            let others = try Compare.parse(["--db", options.databasePath, sftRun.name, dpoRun.name, cartPoleRun.name])
            try others.run()
            let elapsed = started.duration(to: .now).components
            print(String(format: "\ndemo finished in %.0f s; report: %@", Double(elapsed.seconds), report))
            print(
                """

                Try next:
                  policylab study show \(studyName)               # the study again (--json, --svg)
                  policylab inspect \(studyName)__grpo__\(seed)          # what GRPO generated while training
                  policylab sample \(dpoRun.name) --prompt 315204= -n 5     # sample from the DPO policy
                  policylab runs show \(cartPoleRun.name)
                """)
        }

        /// Seeds per configuration of the demo's study.
        static let studySeeds = 3

        /// One line per pair of configurations and evaluation metric: the difference of means, its 95 % interval
        /// and whether the interval excludes 0 (significant) or not (within seed noise at this many seeds).
        func significanceSummary(study name: String, store: Store) throws -> String {
            let report = try StudyReport.make(study: try store.study(name), store: store)
            var lines = ["which differences are significant (95 % bootstrap CI of the difference of means excludes 0, "
                + "\(Self.studySeeds) seeds each):"]
            for difference in report.differences where difference.metric.hasPrefix("eval/") {
                let interval = difference.interval.map {
                    String(format: "[%+.3f, %+.3f]", $0.lower, $0.upper)
                } ?? "—"
                lines.append(String(
                    format: "  %@ %@ − %@: %+.3f %@ → %@", difference.metric, difference.first, difference.second,
                    difference.difference, interval,
                    difference.excludesZero ? "significant" : "not significant"))
            }
            return lines.joined(separator: "\n")
        }

        /// Runs a trainer under a recorder and returns the finished run.
        func record<T>(_ store: Store, _ spec: RunSpec, _ body: (RunRecorder) throws -> T) throws -> RunInfo {
            let recorder = try RunRecorder(store: store, spec: spec, quiet: false)
            _ = try recorder.record { try body(recorder) }
            return try store.run(recorder.run.name)
        }
    }
}
