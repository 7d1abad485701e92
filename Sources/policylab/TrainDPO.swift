import ArgumentParser
import Foundation
import Objectives
import Store
import Tasks
import Training

extension PolicyLab.Train {
    /// `policylab train dpo --dataset NAME --ref RUN`: DPO and its family (`DPOTrainer`), and the
    /// reference-free preference losses the same trainer runs (SimPO, CPO, ORPO).
    struct TrainDPO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "dpo",
            abstract: "DPO on a preference dataset against a frozen reference run (the policy starts from the "
                + "reference unless --init); also SimPO, CPO and ORPO (--loss).",
            discussion: "10 % of the pairs are held out to measure preference accuracy; when the dataset or the "
                + "reference belongs to a task, a greedy evaluation on its held-out prompts runs too. --loss takes "
                + "TRL's loss_type list (sigmoid, ipo, hinge, robust, sigmoid_norm, sft; comma-separated, with "
                + "--loss-weights), so --loss sigmoid,sft --loss-weights 1,0.5 is RPO (as --rpo-alpha 0.5). "
                + "--loss simpo, cpo or orpo is reference-free (TRL's CPOTrainer / ORPOTrainer): --ref is then "
                + "only the starting policy.")

        @Option(help: "Preference dataset (see `policylab data list`); required unless --resume.")
        var dataset: String?
        @Option(help: "Reference run: its latest checkpoint is the frozen reference policy; required unless --resume.")
        var ref: String?
        @Option(name: .customLong("init"), help: "Start the policy from this run instead of the reference.")
        var initRun: String?
        @Option(help: "β, the implicit reward's inverse temperature.") var beta: Double = 0.1
        @Option(help: "sigmoid, ipo, hinge, robust, sigmoid_norm, sft (a comma-separated list), or simpo, cpo, orpo.")
        var loss: String = "sigmoid"
        @Option(help: "TRL's loss_weights: one weight per --loss type, comma-separated (default all 1).")
        var lossWeights: String?
        @Option(help: "ε of the robust, cpo and simpo losses.") var labelSmoothing: Double = 0
        @Option(help: "γ, SimPO's target reward margin (--loss simpo; TRL simpo_gamma, default 0.5).")
        var simpoGamma: Double?
        @Option(help: "α, the chosen NLL's weight of CPO (--loss cpo default 1, simpo default 0; TRL cpo_alpha).")
        var cpoAlpha: Double?
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
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        /// The reference-free loss `--loss` names, if it names one.
        var referenceFree: ReferenceFreePreferenceObjective? {
            switch loss {
            case "simpo":
                .cpo(CPOConfig(beta: beta, lossType: .simpo, labelSmoothing: labelSmoothing,
                               simpoGamma: simpoGamma ?? 0.5, cpoAlpha: cpoAlpha ?? 0))
            case "cpo": .cpo(CPOConfig(beta: beta, lossType: .sigmoid, labelSmoothing: labelSmoothing,
                                       cpoAlpha: cpoAlpha ?? 1))
            case "orpo": .orpo(ORPOConfig(beta: beta))
            default: nil
            }
        }

        /// `--loss` as DPO loss types (throws on an unknown name).
        func lossTypes() throws -> [DPOLossType] {
            try loss.split(separator: ",").map { name in
                guard let type = DPOLossType(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError(
                        "unknown --loss '\(name)' — use sigmoid, ipo, hinge, robust, sigmoid_norm, sft (a list), "
                            + "or one of simpo, cpo, orpo")
                }
                return type
            }
        }

        func weights() throws -> [Double]? {
            try lossWeights.map { text in
                try text.split(separator: ",").map { item in
                    guard let weight = Double(item.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("--loss-weights '\(text)' is not a comma-separated list of numbers")
                    }
                    return weight
                }
            }
        }

        /// The run's algorithm name: dpo for the DPO family, else the reference-free loss.
        var algorithm: String { referenceFree == nil ? "dpo" : loss }

        func makeConfig(task: String?) throws -> DPOTrainerConfig {
            var c = DPOTrainerConfig(task: task)
            c.seed = seed
            if let referenceFree {
                c.referenceFree = referenceFree
            } else {
                c.objective = DPOConfig(
                    beta: beta, lossTypes: try lossTypes(), lossWeights: try weights(), labelSmoothing: labelSmoothing)
            }
            c.rpoAlpha = rpoAlpha
            c.steps = steps
            c.precomputeReference = !liveReference
            c.batchSize = batchSize
            c.learningRate = learningRate
            c.evaluationInterval = evalInterval
            return c
        }

        /// The task comes from the dataset or the reference run.
        static let keysFromInputs: Set<String> = ["task"]
        func makeRunConfig() throws -> DPOTrainerConfig { try makeConfig(task: nil) }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "dpo") }
            guard dataset != nil && ref != nil else {
                throw ValidationError("give --dataset NAME and --ref RUN (or --resume RUN)")
            }
            if referenceFree != nil {
                let refused = [
                    (lossWeights != nil, "--loss-weights"), (rpoAlpha != 0, "--rpo-alpha"),
                    (liveReference, "--live-reference"),
                ]
                if let option = refused.first(where: \.0)?.1 {
                    throw ValidationError("\(option) belongs to the DPO family; --loss \(loss) is reference-free")
                }
                if simpoGamma != nil && loss != "simpo" {
                    throw ValidationError("--simpo-gamma is SimPO's margin — use it with --loss simpo")
                }
                if cpoAlpha != nil && loss == "orpo" {
                    throw ValidationError("--cpo-alpha is CPO's NLL weight — ORPO's NLL weight is 1")
                }
                if labelSmoothing != 0 && loss == "orpo" {
                    throw ValidationError("ORPO has no label smoothing — drop --label-smoothing")
                }
            } else {
                let types = try lossTypes()
                if simpoGamma != nil || cpoAlpha != nil {
                    throw ValidationError("--simpo-gamma and --cpo-alpha belong to --loss simpo and cpo")
                }
                if labelSmoothing != 0 && !types.contains(.robust) {
                    throw ValidationError("--label-smoothing is the robust loss's ε — use it with --loss robust")
                }
            }
            do { try makeConfig(task: nil).validate() } catch let error as ValidationError {
                throw error
            } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let (trainer, recorder, inputs) = try resume.referenceRun(
                algorithm: algorithm, family: ["dpo", "simpo", "cpo", "orpo"], options: options,
                newRun: (dataset, ref, initRun, name, seed), makeConfig: makeConfig(task:), makeTrainer: Self.trainer,
                restore: { $0.restore })
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
            print("next: policylab compare \(inputs.reference.run.name) \(summary.run)")
        }

        /// The trainer of `config` on the preference pairs of the inputs' dataset against their reference.
        static func trainer(_ config: DPOTrainerConfig, _ inputs: ReferenceRunInputs) throws -> DPOTrainer {
            let dataset = inputs.dataset
            guard case .preferences(let rows) = try inputs.store.rows(ofDataset: dataset.name) else {
                throw CLIError("dataset '\(dataset.name)' holds \(dataset.kind.rawValue) rows; DPO needs preference "
                    + "pairs — generate them with `policylab data generate --kind preference`")
            }
            let pairs = rows.map { PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
            do {
                return try DPOTrainer(config: config, pairs: pairs, reference: inputs.reference.policy,
                                      initial: inputs.initial)
            } catch { throw CLIError("\(error)") }
        }
    }
}
