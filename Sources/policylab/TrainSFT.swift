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
        @Option(help: "Model width C (a multiple of the 4 heads; MLP width 4C). (default: 64)") var modelWidth: Int?
        @Option(help: "Transformer layers. (default: 2)") var layers: Int?
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> SFTTrainerConfig {
            var c = SFTTrainerConfig(task: task ?? "")
            c.seed = seed
            c.steps = steps
            c.batchSize = batchSize
            c.learningRate = learningRate
            c.evaluationInterval = evalInterval
            // The same shape options as the RL trainers', so that a supervised ceiling can be measured at a size.
            if let modelWidth {
                c.model.modelWidth = modelWidth
                c.model.mlpWidth = 4 * modelWidth
            }
            if let layers { c.model.layers = layers }
            return c
        }

        func makeRunConfig() -> SFTTrainerConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "sft") }
            guard let task else { throw ValidationError("give --task NAME or --config FILE") }
            do {
                _ = try TaskRegistry.task(named: task)
                try makeConfig().validate()
            } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let trainer: SFTTrainer
            let recorder: RunRecorder
            if let point: ResumePoint<SFTTrainerConfig> = try resume.point(algorithm: "sft", options: options) {
                let rows = try point.dataset().map { try Self.rows(store: point.store, dataset: $0.name).rows }
                trainer = try SFTTrainer(config: point.config, rows: rows)
                recorder = try point.recorder(restoring: trainer.restore, quiet: options.json)
            } else {
                let config = makeConfig()
                let store = try Store(path: options.databasePath)
                let dataset = try self.dataset.map { try Self.rows(store: store, dataset: $0) }
                trainer = try SFTTrainer(config: config, rows: dataset?.rows)
                let spec = RunSpec(name: name, algorithm: "sft", target: config.task, datasetID: dataset?.id,
                                   configJSON: configJSON(config), seed: seed)
                recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
            }
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            printTokenSummary(run: recorder.run.name, result: result, json: options.json)
        }

        /// The (prompt, reference) rows of a prompt dataset, refused unless every row has a reference.
        static func rows(store: Store, dataset: String) throws -> (rows: [TaskPrompt], id: Int64) {
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
            return (withReferences, info.id)
        }
    }
}
