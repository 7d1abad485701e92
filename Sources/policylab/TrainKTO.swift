import ArgumentParser
import Foundation
import Objectives
import Store
import Tasks
import Training

extension KTOLossType: ExpressibleByArgument {}

extension PolicyLab.Train {
    /// `policylab train kto --dataset NAME --ref RUN`: KTO on unpaired rows (`KTOTrainer`).
    struct TrainKTO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "kto",
            abstract: "KTO on an unpaired dataset ({prompt, completion, label}) or preference pairs against a frozen "
                + "reference run (the policy starts from the reference unless --init).",
            discussion: "A preference dataset is unpaired as TRL's KTOTrainer does: each pair gives a desirable row "
                + "(chosen) and an undesirable row (rejected). "
                + "10 % of the rows are held out to measure label accuracy (the implicit reward's sign "
                + "against the label); when the dataset or the reference belongs to a task, a greedy evaluation "
                + "on its held-out prompts runs too. The KL reference point comes from mismatched pairs within "
                + "each batch, as TRL's KTOTrainer builds them.")

        @Option(help: ArgumentHelp("Unpaired dataset (import TRL's KTO format: {\"prompt\",\"completion\",\"label\"}) "
            + "or preference pairs; required unless --resume."))
        var dataset: String?
        @Option(help: "Reference run: its latest checkpoint is the frozen reference policy; required unless --resume.")
        var ref: String?
        @Option(name: .customLong("init"), help: "Start the policy from this run instead of the reference.")
        var initRun: String?
        @Option(help: "β, the implicit reward's inverse temperature.") var beta: Double = 0.1
        @Option(help: "λ_D, the weight of desirable rows (TRL desirable_weight).") var desirableWeight: Double = 1
        @Option(help: "λ_U, the weight of undesirable rows (TRL undesirable_weight).")
        var undesirableWeight: Double = 1
        @Option(help: "kto or apo_zero_unpaired.") var loss: KTOLossType = .kto
        @Option(help: "Update steps.") var steps: Int = 300
        @Option(help: "Rows per step (the mismatched pairs are built within it).") var batchSize: Int = 64
        @Option(help: "AdamW learning rate (linear decay to 0).") var learningRate: Double = 1e-4
        @Option(help: "Evaluate (and checkpoint) every this many steps; 0: only at the end.")
        var evalInterval: Int = 100
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig(task: String?) -> KTOTrainerConfig {
            var c = KTOTrainerConfig(task: task)
            c.seed = seed
            c.objective = KTOConfig(
                beta: beta, desirableWeight: desirableWeight, undesirableWeight: undesirableWeight, lossType: loss)
            c.steps = steps
            c.batchSize = batchSize
            c.learningRate = learningRate
            c.evaluationInterval = evalInterval
            return c
        }

        /// The task comes from the dataset or the reference run.
        static let keysFromInputs: Set<String> = ["task"]
        func makeRunConfig() -> KTOTrainerConfig { makeConfig(task: nil) }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "kto") }
            guard dataset != nil && ref != nil else {
                throw ValidationError("give --dataset NAME and --ref RUN (or --resume RUN)")
            }
            guard evalInterval >= 0 else { throw ValidationError("--eval-interval must be 0 or more") }
            do { try makeConfig(task: nil).validate() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let (trainer, recorder, inputs) = try resume.referenceRun(
                algorithm: "kto", options: options, newRun: (dataset, ref, initRun, name, seed),
                makeConfig: { makeConfig(task: $0) }, makeTrainer: Self.trainer, restore: { $0.restore })
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            struct Summary: Encodable {
                let run: String
                let heldOutAccuracy: Double
                let exactMatch: Double?
                let meanReward: Double?
                let steps: Int
                let rows: Int
                let wallSeconds: Double
            }
            let summary = Summary(
                run: recorder.run.name, heldOutAccuracy: result.heldOutAccuracy,
                exactMatch: result.evaluation?.exactMatch, meanReward: result.evaluation?.meanReward,
                steps: result.steps, rows: result.rows, wallSeconds: result.wallSeconds)
            if options.json { JSONOutput.print(summary); return }
            let greedy = result.evaluation.map {
                String(format: ", greedy exact %.1f%%, mean reward %.3f", 100 * $0.exactMatch, $0.meanReward)
            } ?? ""
            print(String(format: "%@: held-out label accuracy %.1f%%%@ (%d steps, %.1f s)", summary.run,
                         100 * summary.heldOutAccuracy, greedy, summary.steps, summary.wallSeconds))
            print("next: policylab compare \(inputs.reference.run.name) \(summary.run)")
        }

        /// The trainer of `config` on the rows of the inputs' dataset (unpaired rows, or preference pairs unpaired
        /// as TRL's KTOTrainer does) against their reference.
        static func trainer(_ config: KTOTrainerConfig, _ inputs: ReferenceRunInputs) throws -> KTOTrainer {
            let dataset = inputs.dataset.name
            let examples: [UnpairedExample]
            switch try inputs.store.rows(ofDataset: dataset) {
            case .unpaired(let rows):
                examples = rows.map {
                    UnpairedExample(prompt: $0.prompt, completion: $0.completion, desirable: $0.label)
                }
            case .preferences(let rows):
                // As TRL's KTOTrainer with a paired dataset (`unpair_preference_dataset`, map batches of 1,000):
                // each pair becomes a desirable row (chosen) and an undesirable row (rejected).
                examples = stride(from: 0, to: rows.count, by: 1_000).flatMap { start in
                    let batch = rows[start..<min(rows.count, start + 1_000)]
                    return batch.map { UnpairedExample(prompt: $0.prompt, completion: $0.chosen, desirable: true) }
                        + batch.map { UnpairedExample(prompt: $0.prompt, completion: $0.rejected, desirable: false) }
                }
            default:
                throw CLIError("dataset '\(dataset)' holds \(inputs.dataset.kind.rawValue) rows; KTO needs unpaired "
                    + "rows or preference pairs — import a {\"prompt\",\"completion\",\"label\"} file with "
                    + "`policylab data import`")
            }
            do {
                return try KTOTrainer(config: config, rows: examples, reference: inputs.reference.policy,
                                      initial: inputs.initial)
            } catch { throw CLIError("\(error)") }
        }
    }
}
