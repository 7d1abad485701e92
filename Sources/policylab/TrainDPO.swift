import ArgumentParser
import Foundation
import Objectives
import Store
import Tasks
import Training

extension DPOLossType: ExpressibleByArgument {}

extension PolicyLab.Train {
    /// `policylab train dpo --dataset NAME --ref RUN`: DPO and its family (`DPOTrainer`).
    struct TrainDPO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dpo",
            abstract: "DPO on a preference dataset against a frozen reference run (the policy starts from the "
                + "reference unless --init).",
            discussion: "10 % of the pairs are held out to measure preference accuracy; when the dataset or the "
                + "reference belongs to a task, a greedy evaluation on its held-out prompts runs too.")

        @Option(help: "Preference dataset (see `policylab data list`).") var dataset: String
        @Option(help: "Reference run: its latest checkpoint is the frozen reference policy.") var ref: String
        @Option(name: .customLong("init"), help: "Start the policy from this run instead of the reference.")
        var initRun: String?
        @Option(help: "β, the implicit reward's inverse temperature.") var beta: Double = 0.1
        @Option(help: "sigmoid, ipo, hinge or robust.") var loss: DPOLossType = .sigmoid
        @Option(help: "ε of the robust loss (--loss robust only).") var labelSmoothing: Double = 0
        @Option(help: "α: weight of the NLL of the chosen answers (RPO; TRL rpo_alpha). 0 = plain DPO.")
        var rpoAlpha: Double = 0
        @Option(help: "Update steps.") var steps: Int = 300
        @Flag(help: "Run the reference on every batch (TRL's default), not once per pair before training.")
        var liveReference = false
        @Option(help: "Pairs per step.") var batchSize: Int = 64
        @Option(help: "AdamW learning rate (linear decay to 0).") var learningRate: Double = 1e-4
        @Option(help: "Evaluate (and checkpoint) every this many steps; 0: only at the end.")
        var evalInterval: Int = 100
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Run name.") var name: String?
        @OptionGroup var options: GlobalOptions

        func makeConfig(task: String?) -> DPOTrainerConfig {
            var c = DPOTrainerConfig(task: task)
            c.seed = seed
            c.objective = DPOConfig(beta: beta, lossType: loss, labelSmoothing: labelSmoothing)
            c.rpoAlpha = rpoAlpha
            c.steps = steps
            c.precomputeReference = !liveReference
            c.batchSize = batchSize
            c.learningRate = learningRate
            c.evaluationInterval = evalInterval
            return c
        }

        func validate() throws {
            if labelSmoothing != 0 && loss != .robust {
                throw ValidationError("--label-smoothing is the robust loss's ε — use it with --loss robust")
            }
            do { try makeConfig(task: nil).validate() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let info = try store.dataset(named: dataset)
            guard case .preferences(let rows) = try store.rows(ofDataset: dataset) else {
                throw CLIError("dataset '\(dataset)' holds \(info.kind.rawValue) rows; DPO needs preference pairs — "
                    + "generate them with `policylab data generate --kind preference`")
            }
            let (referenceRun, reference) = try loadPolicy(run: ref, store: store)
            let initial = try initRun.map { try loadPolicy(run: $0, store: store).1 }
            // The task of the dataset, else of the reference run, when it is one of PolicyLab's tasks.
            let task = [info.task, referenceRun.target].compactMap { $0 }.first {
                (try? TaskRegistry.task(named: $0)) != nil
            }
            let config = makeConfig(task: task)
            let pairs = rows.map { PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
            let trainer: DPOTrainer
            do {
                trainer = try DPOTrainer(config: config, pairs: pairs, reference: reference, initial: initial)
            } catch { throw CLIError("\(error)") }
            let spec = RunSpec(name: name, algorithm: "dpo", target: task ?? dataset, datasetID: info.id,
                               parentRunID: referenceRun.id, configJSON: configJSON(config), seed: seed)
            let recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            struct Summary: Encodable {
                let run: String
                let heldOutAccuracy: Double
                let exactMatch: Double?
                let meanReward: Double?
                let steps: Int
                let pairs: Int
                let wallSeconds: Double
            }
            let summary = Summary(
                run: recorder.run.name, heldOutAccuracy: result.heldOutAccuracy,
                exactMatch: result.evaluation?.exactMatch, meanReward: result.evaluation?.meanReward,
                steps: result.steps, pairs: result.pairs, wallSeconds: result.wallSeconds)
            if options.json { JSONOutput.print(summary); return }
            let greedy = result.evaluation.map {
                String(format: ", greedy exact %.1f%%, mean reward %.3f", 100 * $0.exactMatch, $0.meanReward)
            } ?? ""
            print(String(format: "%@: held-out preference accuracy %.1f%%%@ (%d steps, %.1f s)", summary.run,
                         100 * summary.heldOutAccuracy, greedy, summary.steps, summary.wallSeconds))
            print("next: policylab compare \(referenceRun.name) \(summary.run)")
        }
    }
}
