import ArgumentParser
import Foundation
import Store
import Tasks
import Training

extension PolicyLab.Train {
    /// `policylab train sft --task NAME`: supervised fine-tuning (`SFTTrainer`).
    struct TrainSFT: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "sft",
            abstract: "Supervised fine-tuning on a task's reference answers (or a prompt dataset's references).",
            discussion: "Next-token cross-entropy on the completion tokens only, from random weights; greedy "
                + "evaluation on the task's held-out prompts every --eval-interval steps.")

        @Option(help: "Task whose prompts, rewards and evaluation to use; required unless --config gives it.")
        var task: String?
        @Option(help: "Train on this prompt dataset's (prompt, reference) rows instead of fresh task prompts.")
        var dataset: String?
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Update steps.") var steps: Int = 1500
        @Option(help: "Sequences per step.") var batchSize: Int = 64
        @Option(help: "AdamW learning rate (linear decay to 0).") var learningRate: Double = 1e-3
        @Option(help: "Evaluate (and checkpoint) every this many steps; 0: only at the end.")
        var evalInterval: Int = 250
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> SFTTrainerConfig {
            var c = SFTTrainerConfig(task: task ?? "")
            c.seed = seed
            c.steps = steps
            c.batchSize = batchSize
            c.learningRate = learningRate
            c.evaluationInterval = evalInterval
            return c
        }

        func makeRunConfig() -> SFTTrainerConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            guard let task else { throw ValidationError("give --task NAME or --config FILE") }
            do {
                _ = try TaskRegistry.task(named: task)
                try makeConfig().validate()
            } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let config = makeConfig()
            let store = try Store(path: options.databasePath)
            var rows: [TaskPrompt]?
            var datasetID: Int64?
            if let dataset {
                let info = try store.dataset(named: dataset)
                guard case .prompts(let prompts) = try store.rows(ofDataset: dataset) else {
                    throw CLIError("dataset '\(dataset)' holds \(info.kind.rawValue) rows; SFT needs a prompt dataset "
                        + "with references — import one with \"reference\" fields")
                }
                let withReferences = prompts.compactMap { row in
                    row.reference.map { TaskPrompt(prompt: row.prompt, reference: $0) }
                }
                guard withReferences.count == prompts.count else {
                    throw CLIError("dataset '\(dataset)' has prompts without a \"reference\" — SFT needs a reference "
                        + "answer for every row")
                }
                rows = withReferences
                datasetID = info.id
            }
            let trainer = try SFTTrainer(config: config, rows: rows)
            let spec = RunSpec(name: name, algorithm: "sft", target: config.task, datasetID: datasetID,
                               configJSON: configJSON(config), seed: seed)
            let recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            printTokenSummary(run: recorder.run.name, result: result, json: options.json)
        }
    }
}
