import ArgumentParser
import Foundation
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

        @Option(help: "Preference or scored dataset.") var dataset: String
        @Option(name: .customLong("init"), help: "Start from this run's weights instead of random ones.")
        var initRun: String?
        @Option(help: "Update steps.") var steps: Int = 300
        @Option(help: "Pairs per step.") var batchSize: Int = 64
        @Option(help: "AdamW learning rate (linear decay to 0).") var learningRate: Double = 1e-3
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
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
            do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let store = try Store(path: options.databasePath)
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
            let initial = try initRun.map { try loadPolicy(run: $0, store: store).1 }
            let config = makeConfig()
            let trainer: RewardModelTrainer
            do { trainer = try RewardModelTrainer(config: config, pairs: pairs, initial: initial) } catch {
                throw CLIError("\(error)")
            }
            let spec = RunSpec(name: name, algorithm: "reward-model", target: info.task ?? dataset, datasetID: info.id,
                               configJSON: configJSON(config), seed: seed)
            let recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
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
            print("next: policylab train grpo --task \(info.task ?? "sort") --reward \(recorder.run.name)")
        }
    }
}
