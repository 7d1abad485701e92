import ArgumentParser
import Foundation
import Store
import Policies
import Training

/// `train ppo|grpo --resume RUN`: continues an interrupted run (Ctrl-C, kill -9, a crash) from its last
/// checkpoint with its recorded config, bit for bit: the checkpoint holds the weights and, in its optimizer
/// column, Adam's moments and step, every generator's state and the trainer's counters (ResumeState.swift);
/// the metric rows and samples logged after the checkpoint are dropped and logged again. Only trainers that
/// save all of that offer the option.
struct ResumeOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Continue this interrupted run from its last checkpoint, exactly as if it had not stopped (its "
                + "recorded config; only --db, --json and --max-seconds go with it).", valueName: "run"))
    var resume: String?

    /// The options that may go with --resume: none of them changes the run.
    static let compatibleOptions: Set = ["--resume", "--db", "--json", "--max-seconds"]

    /// Refuses every other option with --resume (the run continues with its recorded config); in `validate()`.
    func checkNothingElseIsGiven(command name: String) throws {
        guard resume != nil else { return }
        let arguments = CommandLine.arguments
        guard let index = (0..<max(arguments.count - 1, 0)).first(where: {
            arguments[$0] == "train" && arguments[$0 + 1] == name
        }) else { throw ValidationError("--resume works on `policylab train \(name)` given on the command line") }
        for argument in arguments[(index + 2)...] where argument.hasPrefix("-") && Double(argument) == nil {
            let option = String(argument.prefix { $0 != "=" })
            if !Self.compatibleOptions.contains(option) {
                throw ValidationError(
                    "\(option) cannot go with --resume: the run continues with its recorded config — drop it "
                        + "(only --db, --json and --max-seconds go with --resume)")
            }
        }
    }
}

/// What a resumed run continues from: the run, its recorded config and its last checkpoint with resume state.
struct ResumePoint<Config: Decodable> {
    let store: Store
    let run: RunInfo
    let config: Config
    let step: Int
    let weights: [UInt8]
    let state: [UInt8]

    /// Reads (without writing) the run `reference` of `algorithm` and its last checkpoint; refuses a run of
    /// another algorithm, a finished or running one, and one whose checkpoints hold no resume state.
    init(reference: String, algorithm: String, databasePath: String) throws {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw CLIError("no database at \(databasePath) — give the --db of the run to resume")
        }
        store = try Store(path: databasePath)
        // A run whose process is gone (kill -9) still says running until someone looks.
        if try store.runs().contains(where: { $0.status == .running }) { try store.markAbandonedRunsInterrupted() }
        run = try store.run(reference)
        guard run.algorithm == algorithm else {
            throw CLIError(
                "run \(run.name) is a \(run.algorithm) run — resume it with `policylab train \(run.algorithm) "
                    + "--resume \(run.name)` if that command offers it")
        }
        switch run.status {
        case .finished:
            throw CLIError("run \(run.name) finished — there is nothing to resume; `runs show \(run.name)` shows it")
        case .running:
            throw CLIError("run \(run.name) is still running in another process — stop it (Ctrl-C) before resuming")
        default:
            break
        }
        do { config = try JSONDecoder().decode(Config.self, from: Data(run.configJSON.utf8)) } catch {
            throw CLIError("run \(run.name)'s recorded config is not this version's (\(error)) — start it again")
        }
        guard let checkpoint = try store.checkpoint(runID: run.id) else {
            throw CLIError("run \(run.name) has no checkpoint yet — start it again")
        }
        guard let state = checkpoint.optimizer else {
            throw CLIError(
                "run \(run.name)'s checkpoint holds no resume state (recorded before --resume existed) — "
                    + "start it again")
        }
        (step, weights, self.state) = (checkpoint.step, checkpoint.weights, state)
    }

    /// Gives the trainer the checkpoint (`restore` is the trainer's), as a one-line error if it does not fit.
    func restore(_ restore: (_ weights: [UInt8], _ state: [UInt8]) throws -> Void) throws {
        do { try restore(weights, state) } catch { throw CLIError("run \(run.name): \(error)") }
    }

    /// The run taken up again at the checkpoint (later metric rows, samples and checkpoints dropped).
    func takeUp() throws -> RunInfo {
        try store.resumeRun(id: run.id, fromCheckpointStep: step)
    }
}

extension ResumeOptions {
    /// `--resume RUN` of a token RL command: the run's recorded config, its rollout source (the --dataset and
    /// --reward it records) and starting weights (its --init run's latest checkpoint, as when it started, which
    /// also makes the reference policy again), the last checkpoint restored by `makeTrainer`'s `restore`, then
    /// the rest of the run logged into the same run.
    func resumeTokenRun<Config: Decodable>(
        algorithm: String, options: GlobalOptions, maxSeconds: Double?,
        makeTrainer: (Config, _ initial: TransformerPolicy?, RolloutSource) throws -> (
            restore: (_ weights: [UInt8], _ state: [UInt8]) throws -> Void,
            train: (TrainingEventSink, () -> Bool, WallClockBudget) throws -> TokenTrainingResult
        )
    ) throws {
        guard let resume else { return }
        let point = try ResumePoint<Config>(reference: resume, algorithm: algorithm, databasePath: options.databasePath)
        let initial = try point.run.parentRunID.map { try loadPolicy(run: "\($0)", store: point.store).1 }
        let recorded = (try? JSONSerialization.jsonObject(with: Data(point.run.configJSON.utf8))) as? [String: Any]
        var sourceArguments = ["--task", point.run.target]  // the run's target is its config's task
        if let reward = recorded?["reward"] as? String { sourceArguments += ["--reward", reward] }
        if let dataset = recorded?["dataset"] as? String { sourceArguments += ["--dataset", dataset] }
        let source = try RolloutSourceOptions.parse(sourceArguments).resolve(store: point.store).source
        let trainer: (restore: ([UInt8], [UInt8]) throws -> Void, train: (TrainingEventSink, () -> Bool,
            WallClockBudget) throws -> TokenTrainingResult)
        do { trainer = try makeTrainer(point.config, initial, source) } catch { throw CLIError("\(error)") }
        try point.restore(trainer.restore)
        let recorder = RunRecorder(
            store: point.store, resuming: try point.takeUp(), step: point.step, quiet: options.json)
        let result = try recorder.record {
            try trainer.train(recorder.handle, { Interruption.requested }, WallClockBudget(seconds: maxSeconds))
        }
        printTokenSummary(run: recorder.run.name, result: result, json: options.json)
    }
}

extension ResumeOptions {
    /// `--resume RUN` of a classic-control command (`train ppo`, `reinforce`, `a2c`, `off-policy`, `ac-lambda`):
    /// the run's recorded config, a `Trainer` made from it with the last checkpoint restored, then the rest of
    /// the run logged into the same run and the command's usual summary.
    func resumeControlRun<Trainer: ResumableControlTrainer>(
        _ trainerType: Trainer.Type, algorithm: String, options: GlobalOptions, maxSeconds: Double?,
        showsSPS: Bool = false
    ) throws {
        guard let resume else { return }
        let point = try ResumePoint<Trainer.Config>(
            reference: resume, algorithm: algorithm, databasePath: options.databasePath)
        let trainer: Trainer
        do { trainer = try Trainer(config: point.config) } catch { throw CLIError("run \(point.run.name): \(error)") }
        try point.restore { try trainer.restore(weights: $0, state: $1) }
        try ControlRunOptions.record(
            name: nil, environmentID: point.run.target, seed: point.config.seed, algorithm: algorithm,
            configJSON: point.run.configJSON, evaluationEpisodes: point.config.evaluationEpisodes, options: options,
            showsSPS: showsSPS,
            resumedRecorder: {
                RunRecorder(store: point.store, resuming: try point.takeUp(), step: point.step, quiet: options.json)
            }
        ) { recorder in
            try trainer.train(
                events: recorder.handle, shouldStop: { Interruption.requested },
                budget: WallClockBudget(seconds: maxSeconds))
        }
    }
}
