import ArgumentParser
import Foundation
import Store
import Training

/// Options every classic-control training command uses (`train ppo --env`, `reinforce`, `a2c`,
/// `ac-lambda`, `off-policy`), and the recording and summary they share.
struct ControlRunOptions: ParsableArguments {
    @Option(help: "Environment id (see `policylab env list`); required unless --config gives it.") var env: String?
    @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
    @Option(help: "Total environment steps (default: the algorithm's).") var totalSteps: Int?
    @Option(help: "γ, the discount (default: the algorithm's).") var gamma: Double?
    @Option(help: "Greedy evaluation episodes at the end (and at each --eval-interval).") var evalEpisodes: Int = 20
    @Option(help: "Evaluate greedily every this many updates (episodes for ac-lambda); 0: only at the end.")
    var evalInterval: Int = 0
    @Option(help: "Run name.") var name: String?
    @Option(help: ArgumentHelp("Stop after this many seconds of training: the update under way finishes, "
        + "then the run is evaluated and finished; --total-steps stays the cap."))
    var maxSeconds: Double?

    /// The --max-seconds allowance, started now: make it just before `train`.
    func budget() -> WallClockBudget { WallClockBudget(seconds: maxSeconds) }

    /// Refuses an unknown environment, then the algorithm's own checks, as one-line usage errors.
    func check(_ validateConfig: () throws -> Void) throws {
        guard let env else { throw ValidationError("give --env ID (see `policylab env list`) or --config FILE") }
        guard EnvironmentIDs.all.contains(env) else {
            throw ValidationError(
                "unknown environment '\(env)'; choose one of \(EnvironmentIDs.all.joined(separator: ", "))")
        }
        if let maxSeconds, !(maxSeconds > 0) {
            throw ValidationError("--max-seconds must be positive (or left out for no time limit)")
        }
        do { try validateConfig() } catch { throw ValidationError("\(error)") }
    }

    /// The environment id (empty when not given: `check` refuses that).
    var environmentID: String { env ?? "" }

    /// Sets the seed and the evaluation settings, and the total steps and γ where given.
    func apply(to config: inout some ControlTrainingConfig) {
        config.seed = seed
        if let totalSteps { config.totalSteps = totalSteps }
        if let gamma { config.gamma = gamma }
        config.evaluationEpisodes = evalEpisodes
        config.evaluationInterval = evalInterval
    }

    /// Records a run of `algorithm`, trains it, and prints its summary (JSON with --json).
    func run(
        algorithm: String, configJSON: String, evaluationEpisodes: Int, options: GlobalOptions,
        train: (RunRecorder) throws -> ControlTrainingResult
    ) throws {
        try Self.record(
            name: name, environmentID: environmentID, seed: seed, algorithm: algorithm, configJSON: configJSON,
            evaluationEpisodes: evaluationEpisodes, options: options, train: train)
    }

    /// The recording and summary of every classic-control command (`train ppo --env` has options of its
    /// own and calls this directly): a run record (or the run `resumedRecorder` takes up again), the
    /// training, then the greedy evaluation's line with the speed when `showsSPS` (or `ControlRunSummary`
    /// as JSON with --json).
    static func record(
        name: String?, environmentID: String, seed: UInt64, algorithm: String, configJSON: String,
        evaluationEpisodes: Int, options: GlobalOptions, showsSPS: Bool = false,
        resumedRecorder: (() throws -> RunRecorder)? = nil,
        train: (RunRecorder) throws -> ControlTrainingResult
    ) throws {
        let recorder: RunRecorder
        if let resumedRecorder {
            recorder = try resumedRecorder()
        } else {
            let store = try Store(path: options.databasePath)
            let spec = RunSpec(
                name: name, algorithm: algorithm, target: environmentID, configJSON: configJSON, seed: seed)
            recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
        }
        let result = try recorder.record { try train(recorder) }
        let summary = ControlRunSummary(
            run: recorder.run.name, evalReturnMean: result.evaluationReturnMean,
            evalReturnStd: result.evaluationReturnStandardDeviation, envSteps: result.environmentSteps,
            wallSeconds: result.wallSeconds, sps: result.stepsPerSecond)
        if options.json {
            JSONOutput.print(summary)
            return
        }
        let line = String(
            format: "%@: greedy evaluation over %d episodes: %.1f ± %.1f  (%d env steps, %.1f s",
            summary.run, evaluationEpisodes, summary.evalReturnMean, summary.evalReturnStd, summary.envSteps,
            summary.wallSeconds)
        print(line + (showsSPS ? String(format: ", %.0f steps/s)", summary.sps) : ")"))
        if showsSPS { print("next: policylab runs show \(summary.run)") }
    }
}

/// What a classic-control training command prints at the end.
struct ControlRunSummary: Encodable {
    let run: String
    let evalReturnMean: Double
    let evalReturnStd: Double
    let envSteps: Int
    let wallSeconds: Double
    let sps: Double
}
