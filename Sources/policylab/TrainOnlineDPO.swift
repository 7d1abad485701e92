import ArgumentParser
import Objectives
import Store
import Tasks
import Training

extension PolicyLab.Train {
    /// `policylab train online-dpo --task NAME --ref RUN`: online DPO (`OnlineDPOTrainer`).
    struct TrainOnlineDPO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "online-dpo",
            abstract: "Online DPO on a toy task (TRL 1.16 OnlineDPOTrainer semantics): each step samples two "
                + "completions per prompt from the policy, ranks them by the reward, and takes a DPO step.",
            discussion: "The policy starts from the reference run (or --init) and trains against the frozen "
                + "reference. Completions are ranked by the task's verifier, a reward-model run (--reward RUN) "
                + "or a weighted sum (--reward task:1,rm:RUN:0.5); prompts come from the task or a stored "
                + "--dataset; --missing-eos-penalty lowers the score of a completion cut at --max-new-tokens. "
                + "The budget is --steps × --prompts pairs (twice as many completions); the greedy evaluation "
                + "runs on the task's held-out prompts.")

        /// --task, --dataset and --reward, as the token RL commands have them.
        @OptionGroup var source: RolloutSourceOptions
        @Option(help: "Reference run: its latest checkpoint is the frozen reference policy; required unless --resume.")
        var ref: String?
        @Option(name: .customLong("init"), help: "Start the policy from this run instead of the reference.")
        var initRun: String?
        @Option(help: "β, the implicit reward's inverse temperature.") var beta: Double = 0.1
        @Option(help: "TRL's loss_type: sigmoid or ipo.") var loss: String = "sigmoid"
        @Option(help: "Subtracted from the score of a completion without EOS (TRL missing_eos_penalty; default none).")
        var missingEosPenalty: Double?
        @Option(help: "Update steps (one generation batch each).") var steps: Int = 200
        @Option(help: "Prompts per step; each gives one pair of sampled completions.") var prompts: Int = 16
        @Option(help: "Maximum new tokens per completion.") var maxNewTokens: Int = 8
        @Option(help: "Sampling temperature (TRL default 0.9).") var temperature: Float = 0.9
        @Option(help: "AdamW learning rate, decayed linearly to 0 unless --constant-lr.")
        var learningRate: Double = 1e-4
        @Flag(help: "Keep the learning rate constant.") var constantLr = false
        @Option(help: "Global gradient-norm clip.") var maxGradNorm: Double = 1
        @Option(help: "Held-out prompts for the greedy evaluation.") var evalPrompts: Int = 256
        @Option(help: "Evaluate (and checkpoint) every this many steps; 0: only at the end.")
        var evalInterval: Int = 100
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Run name.") var name: String?
        @Option(help: ArgumentHelp("Stop after this many seconds of training: the update under way finishes, "
            + "then the run is evaluated and finished; --steps stays the cap and the learning-rate schedule's length."))
        var maxSeconds: Double?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() throws -> OnlineDPOTrainerConfig {
            guard let lossType = DPOLossType(rawValue: loss), lossType == .sigmoid || lossType == .ipo else {
                throw ValidationError("unknown --loss '\(loss)' — online DPO takes sigmoid or ipo (TRL's loss_type)")
            }
            var c = OnlineDPOTrainerConfig(task: source.task ?? "")
            c.seed = seed
            c.objective = DPOConfig(beta: beta, lossType: lossType)
            c.missingEOSPenalty = missingEosPenalty
            c.steps = steps
            c.promptsPerStep = prompts
            c.maxNewTokens = maxNewTokens
            c.temperature = temperature
            c.learningRate = learningRate
            c.decayLearningRate = !constantLr
            c.maxGradientNorm = maxGradNorm
            c.evaluationPrompts = evalPrompts
            c.evaluationInterval = evalInterval
            return c
        }

        func makeRunConfig() throws -> OnlineDPOTrainerConfig { try makeConfig() }

        /// The run records --reward and --dataset beside the config when they are not the defaults.
        func recordedRunConfigJSON() throws -> String { source.recordedConfigJSON(try makeRunConfig()) }
        static let recordedExtraKeys = ["reward": "String", "dataset": "String"]

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "online-dpo") }
            guard ref != nil else { throw ValidationError("give --ref RUN (or --resume RUN)") }
            if let maxSeconds, !(maxSeconds > 0) {
                throw ValidationError("--max-seconds must be positive (or left out for no time limit)")
            }
            try source.check()
            do { try makeConfig().validate() } catch let error as ValidationError { throw error } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                // The run's parent is its reference; the policy (a copy of it) takes the checkpoint's weights.
                return try resume.resumeTokenRun(algorithm: "online-dpo", options: options, maxSeconds: maxSeconds) {
                    (config: OnlineDPOTrainerConfig, reference, source) in
                    guard let reference else { throw CLIError("the run records no reference run — start it again") }
                    let trainer = try OnlineDPOTrainer(config: config, reference: reference, source: source)
                    return (trainer.restore, trainer.train)
                }
            }
            var config = try makeConfig()
            let store = try Store(path: options.databasePath)
            let (task, rolloutSource, datasetID) = try source.resolve(store: store)
            config.task = task
            let (referenceRun, reference) = try loadPolicy(run: ref ?? "", store: store)
            let initial = try initRun.map { try loadPolicy(run: $0, store: store).1 }
            let trainer: OnlineDPOTrainer
            do {
                trainer = try OnlineDPOTrainer(config: config, reference: reference, initial: initial,
                                               source: rolloutSource)
            } catch { throw CLIError("\(error)") }
            let spec = RunSpec(name: name, algorithm: "online-dpo", target: task, datasetID: datasetID,
                               parentRunID: referenceRun.id, configJSON: source.recordedConfigJSON(config),
                               seed: seed)
            let recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested },
                                  budget: WallClockBudget(seconds: maxSeconds))
            }
            printTokenSummary(run: recorder.run.name, result: result, json: options.json)
        }
    }
}
