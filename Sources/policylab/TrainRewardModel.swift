import ArgumentParser
import Foundation
import Policies
import Store
import Training

extension PolicyLab.Train {
    /// `policylab train reward-model --dataset NAME`: a Bradley–Terry reward model (`RewardModelTrainer`).
    struct TrainRewardModel: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "reward-model",
            abstract: "A Bradley–Terry reward model on a preference or a scored dataset (the transformer's scalar "
                + "head at the last token).",
            discussion: "A scored dataset trains on the pairs within each prompt: every two responses to one prompt "
                + "whose rewards differ make a pair, the higher chosen (ties are left out; InstructGPT's K-choose-2). "
                + "10 % of the pairs are held out to measure preference accuracy. Use the run with "
                + "`train grpo|rloo|token-ppo|online-dpo --reward RUN`.")

        @Option(help: "Preference or scored dataset; required unless --resume.") var dataset: String?
        @Option(name: .customLong("init"), help: "Start from this run's weights instead of random ones.")
        var initRun: String?
        @Option(help: "Update steps.") var steps: Int = 300
        @Option(help: "Pairs per step.") var batchSize: Int = 64
        @Option(help: "AdamW learning rate (linear decay to 0).") var learningRate: Double = 1e-3
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> RewardModelTrainerConfig {
            var c = RewardModelTrainerConfig()
            c.seed = seed
            c.steps = steps
            c.batchSize = batchSize
            c.learningRate = learningRate
            return c
        }

        func makeRunConfig() -> RewardModelTrainerConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "reward-model") }
            guard dataset != nil else { throw ValidationError("give --dataset NAME (or --resume RUN)") }
            do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let trainer: RewardModelTrainer
            let recorder: RunRecorder
            let task: String?
            if let point: ResumePoint<RewardModelTrainerConfig> = try resume.point(
                algorithm: "reward-model", options: options)
            {
                guard let dataset = try point.dataset()?.name else {
                    throw CLIError("run \(point.run.name) records no dataset — start it again")
                }
                // A run started from --init (its parent) drew no weights from its generator: start it from the
                // checkpoint's policy; else from random weights again, so the generator draws the same split.
                let initial = point.run.parentRunID == nil ? nil : try point.checkpointPolicy()
                trainer = try Self.trainer(point.config, store: point.store, dataset: dataset, initial: initial).trainer
                recorder = try point.recorder(restoring: trainer.restore, quiet: options.json)
                task = try point.store.dataset(named: dataset).task
            } else {
                let store = try Store(path: options.databasePath)
                let dataset = self.dataset ?? ""
                let initRun = try self.initRun.map { try loadPolicy(run: $0, store: store) }
                let config = makeConfig()
                let made = try Self.trainer(config, store: store, dataset: dataset, initial: initRun?.1)
                trainer = made.trainer
                // The --init run is the run's parent, so that --resume starts the same way.
                let spec = RunSpec(name: name, algorithm: "reward-model", target: made.info.task ?? dataset,
                                   datasetID: made.info.id, parentRunID: initRun?.0.id, configJSON: configJSON(config),
                                   seed: seed)
                recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
                task = made.info.task
            }
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            struct Summary: Encodable { let run: String; let heldOutAccuracy: Double; let wallSeconds: Double }
            if options.json {
                JSONOutput.print(Summary(run: recorder.run.name, heldOutAccuracy: result.accuracy,
                                         wallSeconds: result.wallSeconds))
                return
            }
            print(String(format: "%@: held-out preference accuracy %.1f%% (%.1f s)", recorder.run.name,
                         100 * result.accuracy, result.wallSeconds))
            print("next: policylab train grpo --task \(task ?? "sort") --reward \(recorder.run.name)")
        }

        /// The trainer of `config` on the pairs of `dataset` (a preference dataset, or the pairs within each
        /// prompt of a scored one).
        static func trainer(_ config: RewardModelTrainerConfig, store: Store, dataset: String,
                            initial: TransformerPolicy?) throws -> (trainer: RewardModelTrainer, info: DatasetInfo) {
            let info = try store.dataset(named: dataset)
            let pairs: [PreferenceExample]
            switch try store.rows(ofDataset: dataset) {
            case .preferences(let rows):
                pairs = rows.map { PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
            case .scored(let rows):
                pairs = preferencePairs(fromScored: rows.map {
                    ScoredExample(prompt: $0.prompt, response: $0.response, reward: $0.reward)
                })
                guard pairs.count >= 2 else {
                    throw CLIError("dataset '\(dataset)': its \(rows.count) scored rows make \(pairs.count) pairs "
                        + "(two responses to one prompt with different rewards make one) — a reward model needs 2")
                }
            default:
                throw CLIError("dataset '\(dataset)' holds \(info.kind.rawValue) rows; a reward model needs preference "
                    + "pairs or scored rows — generate them with `policylab data generate --kind preference`")
            }
            do { return (try RewardModelTrainer(config: config, pairs: pairs, initial: initial), info) } catch {
                throw CLIError("\(error)")
            }
        }
    }
}
