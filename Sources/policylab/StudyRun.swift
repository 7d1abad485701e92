import ArgumentParser
import Foundation
import Store

extension PolicyLab.Study {
    /// `policylab study run NAME …`: runs every missing (configuration, seed) pair of a study.
    struct RunStudy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a study: each algorithm × each seed as an ordinary run, all at the same budget.",
            discussion: """
                A token study (--task) gives every run the same number of completions: --budget completions=N \
                becomes N / (--prompts × --samples) update steps. A control study (--env) gives every run \
                --total-steps N. --budget seconds=S gives every run S seconds of wall clock instead (same compute \
                rather than same data; `train … --max-seconds S`): each run finishes the update under way, is \
                evaluated, and records the samples it used; seconds=S,completions=N also caps the samples. \
                Options after `--` go to every run's train command (e.g. -- --eval-prompts 64).
                A dataset study (--dataset) runs the preference trainers on a preference dataset from --init RUN \
                (their starting policy and frozen reference): --budget pairs=N gives every run N pairs, \
                N / --batch-size steps of --batch-size pairs (dpo and its --loss types, simpo, cpo, orpo; kto \
                unpairs each pair into a desirable and an undesirable row, as TRL's KTOTrainer does with a paired \
                dataset, and takes 2 × --batch-size rows per step). sft on a prompt dataset counts sequences: \
                --task T --algorithms sft --budget sequences=N.
                Running a study again runs only the (configuration, seed) pairs without a finished run; \
                `policylab study run NAME` alone resumes it with its stored settings.
                """)

        @Argument(help: "The study's name.") var name: String
        @Option(help: "Toy task of a token study (sort, reverse, …); with --dataset, the task sft names.")
        var task: String?
        @Option(help: "Stored dataset of a dataset study: preference pairs (dpo, kto) or prompts (sft).")
        var dataset: String?
        @Option(help: "Environment id of a control study (see `policylab env list`).") var env: String?
        @Option(help: ArgumentHelp("Algorithms to compare, comma-separated (task: grpo, rloo, token-ppo; env: ppo, "
            + "a2c, …); LABEL=ALGORITHM OPTION… runs the algorithm with those options under LABEL (e.g. "
            + "'trl=grpo --preset trl,ent=grpo --entropy-coef 0.01')."))
        var algorithms: String?
        @Option(help: "Seeds: 1-5 (the default), 1,3,7 or 1-3,7.") var seeds: String?
        @Option(help: "Per run: completions=N (--task) or steps=N (--env); seconds=S of wall clock; or both.")
        var budget: String?
        @Option(name: .customLong("init"), help: "Token studies: every run starts from this run's policy.")
        var initRun: String?
        @Option(help: "Token studies: prompts per step.") var prompts: Int = 8
        @Option(help: "Token studies: completions per prompt (G).") var samples: Int = 8
        @Option(help: "Dataset and sft studies: pairs (sft: sequences) per step.")
        var batchSize: Int = StudyPlan.defaultBatchSize
        @Argument(parsing: .postTerminator, help: "Options given to every run's train command (after `--`).")
        var trainOptions: [String] = []
        @OptionGroup var options: GlobalOptions

        /// The plan the flags describe; nil when only NAME was given (resume with the stored plan).
        func flagPlan() throws -> StudyPlan? {
            guard task != nil || env != nil || dataset != nil else {
                guard algorithms == nil, budget == nil, seeds == nil, initRun == nil, trainOptions.isEmpty else {
                    throw ValidationError("give --task NAME, --env ID or --dataset NAME")
                }
                return nil
            }
            if let dataset { return try datasetPlan(dataset) }
            guard (task == nil) != (env == nil) else { throw ValidationError("give one of --task or --env, not both") }
            guard let algorithms else { throw ValidationError("give --algorithms, e.g. grpo,rloo") }
            guard let budget else {
                throw ValidationError("give --budget: completions=N (--task) or steps=N (--env), or seconds=S")
            }
            do {
                let (sampleBudget, seconds) = try StudyPlan.parseBudget(budget)
                let unit = sampleBudget?.unit ?? (task != nil ? "completions" : "steps")
                let (configurations, variants) = StudyPlan.parseConfigurations(algorithms)
                let runsSFT = configurations.contains { (variants?[$0]?.algorithm ?? $0) == "sft" }
                if task != nil && unit != (runsSFT ? "sequences" : "completions") || env != nil && unit != "steps" {
                    throw ValidationError(task == nil
                        ? "an --env study counts environment steps: write --budget steps=N"
                        : runsSFT ? "sft counts sequences: write --budget sequences=N"
                        : "a --task study counts completions: write --budget completions=N")
                }
                if env != nil && initRun != nil { throw ValidationError("--init is for token studies (--task)") }
                let plan = StudyPlan(
                    target: task.map { StudyPlan.Target.task($0) } ?? .environment(env ?? ""),
                    configurations: configurations,
                    seeds: try StudyPlan.parseSeeds(seeds ?? "1-5"), budget: sampleBudget?.amount ?? 0,
                    seconds: seconds,
                    prompts: task != nil && !runsSFT ? prompts : nil, samples: task != nil && !runsSFT ? samples : nil,
                    initRun: initRun, batchSize: runsSFT ? batchSize : nil, trainOptions: trainOptions,
                    variants: variants)
                guard !runsSFT || prompts == 8 && samples == 8 else {
                    throw ValidationError("--prompts and --samples are for RL studies; sft takes --batch-size")
                }
                guard runsSFT || batchSize == StudyPlan.defaultBatchSize else {
                    throw ValidationError("--batch-size is for studies of sft or of a --dataset; "
                        + "use --prompts and --samples")
                }
                try plan.validate()
                return plan
            } catch let error as StudyPlanError {
                throw ValidationError(error.description)
            }
        }

        /// The plan of a `--dataset` study.
        private func datasetPlan(_ dataset: String) throws -> StudyPlan {
            guard env == nil else { throw ValidationError("give one of --dataset or --env, not both") }
            guard let algorithms else { throw ValidationError("give --algorithms, e.g. dpo,kto") }
            guard let budget else { throw ValidationError("give --budget pairs=N (or sequences=N for sft)") }
            guard prompts == 8 && samples == 8 else {
                throw ValidationError("--prompts and --samples are for RL studies on a --task; use --batch-size")
            }
            do {
                let (sampleBudget, seconds) = try StudyPlan.parseBudget(budget)
                let (configurations, variants) = StudyPlan.parseConfigurations(algorithms)
                let plan = StudyPlan(
                    target: .dataset(dataset), configurations: configurations,
                    seeds: try StudyPlan.parseSeeds(seeds ?? "1-5"), budget: sampleBudget?.amount ?? 0,
                    seconds: seconds, initRun: initRun, batchSize: batchSize, task: task, trainOptions: trainOptions,
                    variants: variants)
                try plan.validate()
                if let unit = sampleBudget?.unit, unit != plan.datasetUnit {
                    throw ValidationError("these algorithms count \(plan.datasetUnit): write --budget "
                        + "\(plan.datasetUnit)=N")
                }
                return plan
            } catch let error as StudyPlanError {
                throw ValidationError(error.description)
            }
        }

        func validate() throws {
            do { try Store.validateStudyName(name) } catch { throw ValidationError("\(error)") }
            _ = try flagPlan()
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            // Everything that can refuse the command is checked before the first write.
            let existing = try store.study(named: name)
            let plan: StudyPlan
            switch (try flagPlan(), existing) {
            case (let given?, let study?):
                plan = try StudyRecord.plan(of: study)
                guard given == plan else {
                    throw CLIError("study \(name) exists with other settings (\(study.configJSON)) — run "
                        + "`policylab study run \(name)` alone to resume it, or choose another name")
                }
            case (let given?, nil): plan = given
            case (nil, let study?): plan = try StudyRecord.plan(of: study)
            case (nil, nil):
                throw CLIError("no study '\(name)' — start it with --task or --env, --algorithms and --budget")
            }
            try checkTrainCommands(plan, store: store)
            if let initRun = plan.initRun {
                let parent = try store.run(initRun)
                guard try store.checkpoint(runID: parent.id) != nil else {
                    throw CLIError("run \(parent.name) has no checkpoint for --init — pick a finished token run")
                }
            }
            if case .dataset(let dataset) = plan.target {
                let kind = try store.dataset(named: dataset).kind
                let needed: DatasetKind = plan.runsSFT ? .prompt : .preference
                // KTO also trains on unpaired rows; a study compares trainers on the same pairs.
                guard kind == needed else {
                    throw CLIError("dataset '\(dataset)' holds \(kind.rawValue) rows; this study needs "
                        + "\(needed.rawValue) rows — generate them with `policylab data generate --kind "
                        + "\(needed.rawValue)`")
                }
            }

            try store.markAbandonedRunsInterrupted()
            let study = try existing ?? store.createStudy(StudySpec(
                name: name, configJSON: studyPlanJSON(plan), budget: plan.budgetDescription))
            let recovered = try recordLeftoverRuns(plan, study: study, store: store)
            if !recovered.isEmpty {
                print("study \(name): recorded \(recovered.count) run(s) a killed `study run` left outside the study: "
                    + recovered.joined(separator: ", "))
            }
            let finished = try StudyRecord.finishedPairs(study: study, store: store)
            let missing = plan.pairs.filter {
                finished[StudyRecord.Pair(configuration: $0.configuration, seed: $0.seed)] == nil
            }
            let total = plan.pairs.count
            if missing.isEmpty {
                print("study \(name): all \(total) runs are finished — nothing to run. "
                    + "next: policylab study show \(name)")
                return
            }
            if !finished.isEmpty {
                print("study \(name): \(finished.count) of \(total) runs already finished; running the "
                    + "\(missing.count) missing: " + missing.map { "\($0.configuration) seed \($0.seed)" }
                    .joined(separator: ", "))
            } else {
                print("study \(name): \(total) runs (\(plan.configurations.joined(separator: ", ")) × seeds "
                    + "\(StudyRecord.describe(seeds: plan.seeds))), each \(plan.budgetMeaning)")
            }
            let clock = ContinuousClock()
            let start = clock.now
            for (index, pair) in missing.enumerated() {
                let elapsed = clock.now - start
                let left = index == 0 ? "time left known after the first run"
                    : "about \(formattedDuration(elapsed / index * (missing.count - index))) left"
                FileHandle.standardError.write(Data(
                    ("study \(name): run \(index + 1) of \(missing.count) — \(pair.configuration) seed \(pair.seed)"
                        + " · elapsed \(formattedDuration(elapsed)) · \(left)\n").utf8))
                let runName = try freeRunName(
                    "\(name)__\(pair.configuration)__\(pair.seed)", store: store)
                var command = try PolicyLab.Train.parseAsRoot(plan.trainArguments(
                    configuration: pair.configuration, seed: pair.seed, runName: runName,
                    databasePath: options.databasePath))
                do {
                    try command.run()
                } catch {
                    // The failed or interrupted run stays in the study, so `study show` can name it.
                    if let run = try? store.run(runName) {
                        try? store.addStudyRun(studyID: study.id, StudyRun(
                            runID: run.id, configuration: pair.configuration, seed: pair.seed))
                    }
                    throw CLIError("study \(name) stopped at \(pair.configuration) seed \(pair.seed): \(error) — "
                        + "`policylab study run \(name)` runs the missing runs again")
                }
                let run = try store.run(runName)
                try store.addStudyRun(studyID: study.id, StudyRun(
                    runID: run.id, configuration: pair.configuration, seed: pair.seed))
            }
            print("study \(name): \(total) of \(total) runs finished in \(formattedDuration(clock.now - start)) — "
                + "next: policylab study show \(name)")
        }

        /// Parses every configuration's train command (which runs its own validation) before anything is written.
        private func checkTrainCommands(_ plan: StudyPlan, store: Store) throws {
            for configuration in plan.configurations {
                let arguments = plan.trainArguments(
                    configuration: configuration, seed: plan.seeds[0], runName: "\(name)__check",
                    databasePath: options.databasePath)
                do {
                    _ = try PolicyLab.Train.parseAsRoot(arguments)
                } catch {
                    throw CLIError("the \(configuration) runs would be refused: "
                        + "\(PolicyLab.Train.message(for: error)) — fix the study's options")
                }
            }
        }

        /// Runs of this study's names that a kill left out of it: `kill -9` between a run's start and its
        /// membership leaves it `interrupted` (shown by `study show`, run again), or, in the instant after it
        /// finished, `finished` (counted, so not run again). Returns each as `name (status)`.
        private func recordLeftoverRuns(_ plan: StudyPlan, study: StudyInfo, store: Store) throws -> [String] {
            let members = Set(try store.studyRuns(studyID: study.id).map(\.runID))
            var recovered: [String] = []
            for pair in plan.pairs {
                let base = "\(name)__\(pair.configuration)__\(pair.seed)"
                var runName = base, attempt = 2
                while let run = try? store.run(runName) {
                    if !members.contains(run.id), run.seed == pair.seed, run.status != .running {
                        try store.addStudyRun(studyID: study.id, StudyRun(
                            runID: run.id, configuration: pair.configuration, seed: pair.seed))
                        recovered.append("\(run.name) (\(run.status.rawValue))")
                    }
                    runName = "\(base)__\(attempt)"
                    attempt += 1
                }
            }
            return recovered
        }

        /// `base`, or `base__2`, `base__3`, … when a killed attempt already holds the name.
        private func freeRunName(_ base: String, store: Store) throws -> String {
            var name = base, attempt = 2
            while (try? store.run(name)) != nil {
                name = "\(base)__\(attempt)"
                attempt += 1
            }
            return name
        }
    }
}

/// `42 s`, `3 min 05 s`, `1 h 02 min`.
func formattedDuration(_ duration: Duration) -> String {
    let seconds = Int(Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18)
    if seconds < 60 { return "\(seconds) s" }
    if seconds < 3600 { return String(format: "%d min %02d s", seconds / 60, seconds % 60) }
    return String(format: "%d h %02d min", seconds / 3600, (seconds % 3600) / 60)
}
