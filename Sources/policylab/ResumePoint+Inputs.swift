import Foundation
import Policies
import Store
import Training

// What `train sft|dpo|kto|reward-model --resume RUN` needs besides the checkpoint: the run's inputs made again
// as when it started (its dataset's rows, its --ref run's policy), then the checkpoint restored and the run
// taken up. The token RL commands have theirs in `ResumeOptions.resumeTokenRun`.
import Tasks

extension ResumeOptions {
    /// The run --resume names (nil without --resume), read without writing; it must be a run of `algorithm`,
    /// or of one of `family` when the command records its runs under several names (`train dpo`: dpo, simpo,
    /// cpo, orpo).
    func point<Config: Decodable>(
        algorithm: String, family: Set<String> = [], options: GlobalOptions
    ) throws -> ResumePoint<Config>? {
        guard let resume else { return nil }
        var algorithm = algorithm
        if !family.isEmpty, FileManager.default.fileExists(atPath: options.databasePath),
            let recorded = try? Store(path: options.databasePath).run(resume).algorithm, family.contains(recorded)
        {
            algorithm = recorded
        }
        return try ResumePoint(reference: resume, algorithm: algorithm, databasePath: options.databasePath)
    }
}

extension ResumePoint {
    /// The stored dataset the run trains on (nil: none).
    func dataset() throws -> DatasetInfo? {
        guard let id = run.datasetID else { return nil }
        guard let dataset = try store.datasets().first(where: { $0.id == id }) else {
            throw CLIError("run \(run.name)'s dataset has been deleted — it cannot be resumed; start it again")
        }
        return dataset
    }

    /// The run's parent (its --ref, or the reward model's --init) and its policy: the parent run's latest
    /// checkpoint, as when the run started.
    func parent() throws -> (run: RunInfo, policy: TransformerPolicy)? {
        try run.parentRunID.map { try loadPolicy(run: "\($0)", store: store) }
    }

    /// The policy the checkpoint holds (its shape, whatever the run started from).
    func checkpointPolicy() throws -> TransformerPolicy {
        guard let checkpoint = try store.checkpoint(runID: run.id, step: step) else {
            throw CLIError("run \(run.name) has no checkpoint at step \(step) — start it again")
        }
        do {
            return try TransformerPolicy.decode(configJSON: checkpoint.configJSON, weights: checkpoint.weights)
        } catch {
            throw CLIError("run \(run.name)'s checkpoint does not hold a token policy (\(error)) — start it again")
        }
    }

    /// Gives the trainer the checkpoint (`restore` is the trainer's), then takes the run up: the recorder that
    /// logs the rest of it into the same run.
    func recorder(restoring restore: (_ weights: [UInt8], _ state: [UInt8]) throws -> Void,
                  quiet: Bool) throws -> RunRecorder {
        try self.restore(restore)
        return RunRecorder(store: store, resuming: try takeUp(), step: step, quiet: quiet)
    }
}

/// The inputs of `train dpo|kto`: a stored dataset, the frozen reference (a run's latest checkpoint) and the
/// policy's start: --dataset, --ref and --init for a new run; for a resumed one, the dataset and parent its
/// record names and the checkpoint's policy (its weights are restored anyway; its shape is the run's).
struct ReferenceRunInputs {
    let store: Store
    let dataset: DatasetInfo
    let reference: (run: RunInfo, policy: TransformerPolicy)
    let initial: TransformerPolicy?

    /// The task of the dataset, else of the reference run, when it is one of PolicyLab's tasks.
    var task: String? {
        [dataset.task, reference.run.target].compactMap { $0 }.first { (try? TaskRegistry.task(named: $0)) != nil }
    }
}

extension ResumeOptions {
    /// `train dpo|kto`'s trainer and recorder: of the run --resume names (its recorded config, its inputs made
    /// again, the checkpoint restored), else of a new run of `algorithm` on `newRun`'s inputs and the config
    /// `makeConfig` makes for their task, recorded with the reference as its parent.
    func referenceRun<Config: Codable, Trainer>(
        algorithm: String, family: Set<String> = [], options: GlobalOptions,
        newRun: (dataset: String?, reference: String?, initRun: String?, name: String?, seed: UInt64),
        makeConfig: (_ task: String?) throws -> Config,
        makeTrainer: (Config, ReferenceRunInputs) throws -> Trainer,
        restore: (Trainer) -> (_ weights: [UInt8], _ state: [UInt8]) throws -> Void
    ) throws -> (trainer: Trainer, recorder: RunRecorder, inputs: ReferenceRunInputs) {
        if let point: ResumePoint<Config> = try point(algorithm: algorithm, family: family, options: options) {
            guard let dataset = try point.dataset(), let reference = try point.parent() else {
                throw CLIError("run \(point.run.name) records no dataset or reference run — start it again")
            }
            let inputs = ReferenceRunInputs(
                store: point.store, dataset: dataset, reference: reference, initial: try point.checkpointPolicy())
            let trainer = try makeTrainer(point.config, inputs)
            return (trainer, try point.recorder(restoring: restore(trainer), quiet: options.json), inputs)
        }
        let store = try Store(path: options.databasePath)
        let inputs = ReferenceRunInputs(
            store: store, dataset: try store.dataset(named: newRun.dataset ?? ""),
            reference: try loadPolicy(run: newRun.reference ?? "", store: store),
            initial: try newRun.initRun.map { try loadPolicy(run: $0, store: store).1 })
        let config = try makeConfig(inputs.task)
        let trainer = try makeTrainer(config, inputs)
        let spec = RunSpec(
            name: newRun.name, algorithm: algorithm, target: inputs.task ?? inputs.dataset.name,
            datasetID: inputs.dataset.id, parentRunID: inputs.reference.run.id, configJSON: configJSON(config),
            seed: newRun.seed)
        return (trainer, try RunRecorder(store: store, spec: spec, quiet: options.json), inputs)
    }
}
