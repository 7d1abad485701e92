import ArgumentParser
import Foundation
import Randomness
import Store
import Tasks
import Training

extension PolicyLab.DataCommand {
    /// `policylab data generate`: synthetic datasets from a toy task, or completions sampled from a run.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Generate a prompt dataset (with reference answers) or preference pairs (chosen = higher reward) \
                from a task, or scored / preference rows from a run's own samples (--from-run).
                """,
            discussion: """
                --from-run RUN samples --samples completions of each of --count training prompts of the task \
                (the run's unless --task) from the run's policy, scores each with --reward (the task's verifier, \
                a reward-model run, or a weighted sum such as task:1,rm:RUN:0.5), and stores every completion \
                with its reward (--kind scored), or the best and the worst completion of each prompt as a pair \
                (--kind preference; a prompt whose completions all tie gives none). A completion holding a \
                special token (BOS or PAD sampled mid-sequence) has no text and is left out.
                """)

        enum Kind: String, ExpressibleByArgument { case prompt, preference, scored }

        @Option(help: "Task name (sort, reverse, copy, copy-letters, addition, digitsum); with --from-run, the run's.")
        var task: String?
        @Option(help: "prompt or preference; with --from-run, scored or preference.") var kind: Kind
        @Option(help: "Number of rows (with --from-run: of prompts).") var count: Int
        @Option(help: "The dataset's name.") var name: String
        @Option(help: "Seed of the generator.") var seed: UInt64 = 1
        @Option(help: "Sample the completions from this run's policy instead of the task's synthesis.")
        var fromRun: String?
        @Option(help: "With --from-run: completions per prompt (default 2).") var samples: Int?
        @Option(help: "With --from-run: the reward — task, a reward-model run, or a weighted sum (default task).")
        var reward: String?
        @Option(help: "With --from-run: sampling temperature (default 1).") var temperature: Float?
        @Option(help: "With --from-run: maximum new tokens per completion (default 8).") var maxNewTokens: Int?
        @Flag(help: "Replace an existing dataset of the same name.") var replace = false
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard count > 0 && count <= 10_000_000 else {
                throw ValidationError("--count must be between 1 and 10,000,000")
            }
            if let task {
                do { _ = try TaskRegistry.task(named: task) } catch { throw ValidationError("\(error)") }
            }
            guard fromRun != nil else {
                if task == nil {
                    throw ValidationError("name a --task (or sample a run's completions with --from-run)")
                }
                if kind == .scored { throw ValidationError("--kind scored samples a policy — add --from-run RUN") }
                if samples != nil || reward != nil || temperature != nil || maxNewTokens != nil {
                    throw ValidationError(
                        "--samples, --reward, --temperature and --max-new-tokens belong to --from-run")
                }
                return
            }
            if kind == .prompt { throw ValidationError("--from-run makes scored or preference rows, not prompts") }
            let samples = samples ?? 2
            guard samples >= (kind == .preference ? 2 : 1) && samples <= 64 else {
                throw ValidationError("--samples must be between \(kind == .preference ? 2 : 1) and 64")
            }
            guard (temperature ?? 1) > 0 && (temperature ?? 1).isFinite && (maxNewTokens ?? 8) > 0 else {
                throw ValidationError("--temperature and --max-new-tokens must be positive")
            }
            _ = try RewardTerm.parse(reward ?? "task")
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let rows: DatasetRows
            let taskName: String
            let source: String
            if let fromRun {
                (rows, taskName) = try sampledRows(run: fromRun, store: store)
                source = "sampled from run \(fromRun): --samples \(samples ?? 2), --reward \(reward ?? "task"), "
                    + "seed \(seed)"
            } else {
                taskName = task ?? ""
                rows = try synthesizedRows(task: try TaskRegistry.task(named: taskName))
                source = "generated: \(taskName) seed \(seed)"
            }
            let info = try store.insertDataset(name: name, rows: rows, task: taskName, source: source, replace: replace)
            if options.json {
                JSONOutput.print(info)
            } else {
                print("generated \(info.rowCount) \(info.kind.rawValue) rows of \(taskName) as '\(info.name)'")
            }
        }

        /// The task's synthetic prompts or preference pairs.
        func synthesizedRows(task sequenceTask: any SequenceTask) throws -> DatasetRows {
            var generator = SeededGenerator(seed: seed)
            switch kind {
            case .prompt:
                return .prompts(makePromptDataset(task: sequenceTask, count: count, using: &generator).map {
                    PromptRow(prompt: $0.prompt, reference: $0.reference)
                })
            case .preference:
                return .preferences(makePreferencePairs(task: sequenceTask, count: count, using: &generator).map {
                    PreferencePair(
                        prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected, chosenScore: $0.chosenScore,
                        rejectedScore: $0.rejectedScore)
                })
            case .scored: preconditionFailure("validate() refuses --kind scored without --from-run")
            }
        }

        /// Completions sampled from `run`'s policy and scored: every one (scored), or each prompt's best and
        /// worst (preference; the first best and the last worst on ties, none when all tie).
        func sampledRows(run: String, store: Store) throws -> (DatasetRows, task: String) {
            let (runInfo, policy) = try loadPolicy(run: run, store: store)
            guard let taskName = task ?? (try? TaskRegistry.task(named: runInfo.target)).map({ _ in runInfo.target })
            else {
                throw CLIError("run \(runInfo.name) trained on \(runInfo.target), not one of PolicyLab's tasks — "
                    + "name the prompts' task with --task")
            }
            let sequenceTask = try TaskRegistry.task(named: taskName)
            let rewardSource = try rewardSource(reward ?? "task", task: sequenceTask, store: store)
            let groups: [ScoredCompletionGroup]
            do {
                groups = try sampleScoredCompletions(
                    policy: policy, task: sequenceTask, reward: rewardSource, prompts: count,
                    samplesPerPrompt: samples ?? 2, maxNewTokens: maxNewTokens ?? 8, temperature: temperature ?? 1,
                    seed: seed)
            } catch { throw CLIError("\(error)") }
            switch kind {
            case .scored:
                let rows = groups.flatMap { group in
                    zip(group.completions, group.rewards).map {
                        ScoredResponse(prompt: group.prompt, response: $0, reward: $1)
                    }
                }
                guard !rows.isEmpty else {
                    throw CLIError("every sampled completion held a special token, so none has a text — sample "
                        + "from a trained run")
                }
                return (.scored(rows), taskName)
            case .preference:
                let pairs = groups.compactMap { group -> PreferencePair? in
                    guard let best = group.rewards.indices.max(by: { group.rewards[$0] < group.rewards[$1] }),
                          let worst = group.rewards.indices.min(by: { group.rewards[$0] <= group.rewards[$1] }),
                          group.rewards[best] > group.rewards[worst] else { return nil }
                    return PreferencePair(prompt: group.prompt, chosen: group.completions[best],
                                          rejected: group.completions[worst], chosenScore: group.rewards[best],
                                          rejectedScore: group.rewards[worst])
                }
                guard !pairs.isEmpty else {
                    throw CLIError("every prompt's completions scored alike, so no pair was made — raise --samples "
                        + "or --temperature, or use --kind scored")
                }
                return (.preferences(pairs), taskName)
            case .prompt: preconditionFailure("validate() refuses --kind prompt with --from-run")
            }
        }
    }
}
