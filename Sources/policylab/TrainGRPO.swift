import ArgumentParser
import Objectives
import Training

extension GRPOLossType: ExpressibleByArgument {}
extension RewardScaling: ExpressibleByArgument {}
extension ImportanceSamplingLevel: ExpressibleByArgument {}
extension GRPOLearningRateScheduler: ExpressibleByArgument {}
extension GRPOPreset: ExpressibleByArgument {}

extension PolicyLab.Train {
    /// `policylab train grpo --task NAME`: GRPO (`GRPOTrainer`). The options left out take the preset's
    /// value (`GRPOPreset`): PolicyLab's recipe by default, TRL 1.16's anchor setting with `--preset trl`.
    struct TrainGRPO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "grpo",
            abstract: "GRPO on a toy task with its verifiable reward (TRL 1.16 semantics; random weights unless "
                + "--init).",
            discussion: "Each step samples --samples completions of --prompts prompts, scores them, and takes μ "
                + "(--iterations) AdamW steps on the clipped surrogate with group-relative advantages. Options "
                + "left out come from --preset: `default` (PolicyLab's recipe, README § GRPO), `trl` (TRL's "
                + "GRPOConfig defaults in its anchor setting) or `from-sft` (for an --init policy).")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: ArgumentHelp("default (PolicyLab's recipe), trl (TRL 1.16's defaults) or from-sft (for an --init "
            + "policy that already answers); the options below override it."))
        var preset: GRPOPreset = .default
        @Option(help: "β: weight of the k3 KL to the starting policy (0: no reference policy).") var beta: Double?
        @Option(help: "ε_low: the ratio is clipped below at 1 − ε_low.") var epsilon: Double?
        @Option(help: ArgumentHelp("ε_high: the ratio is clipped above at 1 + ε_high (DAPO's clip-higher; default "
            + "0.28, ε_low with --preset trl)."))
        var epsilonHigh: Double?
        @Option(help: "grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo or vespo.") var lossType: GRPOLossType?
        @Option(help: "Advantage scaling: group, batch or none.") var scaleRewards: RewardScaling?
        @Option(help: "μ: optimizer steps per generation batch (TRL num_iterations; default 2, 1 with --preset trl).")
        var iterations: Int?
        @Option(help: "token (PPO/GRPO) or sequence (GSPO: one length-normalised ratio per completion).")
        var importanceSamplingLevel: ImportanceSamplingLevel?
        @Option(help: "c: entropy bonus weight, loss −= c · mean per-token entropy (the start value with a target).")
        var entropyCoef: Double?
        @Option(help: ArgumentHelp("H*: steer c towards this per-token entropy in nats (c += η (H* − H) each step); "
            + "`none` keeps c fixed."))
        var targetEntropy: String?
        @Option(help: "η: the entropy controller's step.") var entropyCoefLr: Double?
        @Option(help: "The entropy controller's ceiling on c.") var maxEntropyCoef: Double?
        @Option(help: ArgumentHelp("DAPO dynamic sampling: drop groups whose rewards all agree and draw more "
            + "prompts until the batch is full (the extra completions count in the budget): true or false."))
        var dynamicSampling: Bool?
        @Option(help: "Most generation batches one step draws under dynamic sampling.") var maxNumGenBatches: Int?
        @Option(help: ArgumentHelp("Under dynamic sampling, keep every group with differing rewards a step draws, "
            + "not only the first --prompts (DAPO discards the rest): true or false."))
        var keepSurplusGroups: Bool?
        @Option(help: "Leave completions truncated at --max-new-tokens (no EOS) out of the loss: true or false.")
        var maskTruncatedCompletions: Bool?
        @Option(help: "Learning-rate schedule: linear (to 0), cosine or constant.")
        var lrSchedulerType: GRPOLearningRateScheduler?
        @Option(help: "Share of the steps warming the learning rate up (cosine).") var warmupRatio: Double?
        @Option(help: ArgumentHelp("Share of the run after which β and the entropy bonus decay linearly to 0 at "
            + "its end (1: they stay fixed)."))
        var regularizerDecayStart: Double?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() throws -> GRPOTrainerConfig {
            var c = GRPOTrainerConfig(task: rl.task, preset: preset)
            rl.apply(to: &c)
            c.objective.groupSize = rl.samples
            c.objective.maxCompletionLength = rl.maxNewTokens
            if let maxGradNorm = rl.maxGradNorm { c.maxGradientNorm = maxGradNorm }
            if let beta { c.objective.beta = beta }
            if let epsilon { c.objective.epsilonLow = epsilon }
            if let epsilonHigh { c.objective.epsilonHigh = epsilonHigh }
            if let lossType { c.objective.lossType = lossType }
            if let scaleRewards { c.objective.scaleRewards = scaleRewards }
            if let iterations { c.objective.iterations = iterations }
            if let importanceSamplingLevel { c.objective.importanceSamplingLevel = importanceSamplingLevel }
            if let entropyCoef { c.entropyBonus.coefficient = entropyCoef }
            if let targetEntropy {
                if targetEntropy == "none" {
                    c.entropyBonus.targetEntropy = nil
                } else if let value = Double(targetEntropy) {
                    c.entropyBonus.targetEntropy = value
                } else {
                    throw ValidationError("--target-entropy '\(targetEntropy)' is not a number — give nats "
                        + "per token (e.g. 0.3) or `none`")
                }
            }
            if let entropyCoefLr { c.entropyBonus.adaptationRate = entropyCoefLr }
            if let maxEntropyCoef { c.entropyBonus.maximumCoefficient = maxEntropyCoef }
            if let dynamicSampling { c.dynamicSampling = dynamicSampling }
            if let maxNumGenBatches { c.maximumGenerationBatches = maxNumGenBatches }
            // The preset's setting goes with its dynamic sampling: without it there is no surplus to keep.
            c.keepSurplusGroups = keepSurplusGroups ?? (c.keepSurplusGroups && c.dynamicSampling)
            if let maskTruncatedCompletions { c.maskTruncatedCompletions = maskTruncatedCompletions }
            if let lrSchedulerType { c.learningRateScheduler = lrSchedulerType }
            if let warmupRatio { c.warmupRatio = warmupRatio }
            if let regularizerDecayStart { c.regularizerDecayStart = regularizerDecayStart }
            return c
        }

        func makeRunConfig() throws -> GRPOTrainerConfig { try makeConfig() }

        /// The run records --reward and --dataset beside the config when they are not the defaults.
        func recordedRunConfigJSON() throws -> String { rl.source.recordedConfigJSON(try makeRunConfig()) }
        static let recordedExtraKeys = ["reward": "String", "dataset": "String"]

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "grpo") }
            if rl.constantLr && lrSchedulerType != nil && lrSchedulerType != .constant {
                throw ValidationError("--constant-lr and --lr-scheduler-type \(lrSchedulerType!.rawValue) disagree "
                    + "— drop one of them")
            }
            let config = try makeConfig()
            if keepSurplusGroups == true && !config.dynamicSampling {
                throw ValidationError("--keep-surplus-groups true needs dynamic sampling — add --dynamic-sampling "
                    + "true or drop it")
            }
            if warmupRatio != nil && config.learningRateScheduler != .cosine {
                throw ValidationError("--warmup-ratio is used by the cosine schedule only — add "
                    + "--lr-scheduler-type cosine or drop it")
            }
            try rl.check(config)
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeTokenRun(algorithm: "grpo", options: options, maxSeconds: rl.maxSeconds) {
                    (config: GRPOTrainerConfig, initial, source) in
                    let trainer = try GRPOTrainer(config: config, initial: initial, source: source)
                    return (trainer.restore, trainer.train)
                }
            }
            let config = try makeConfig()
            try rl.run(config, algorithm: "grpo", options: options) { config, initial, source in
                try GRPOTrainer(config: config, initial: initial, source: source).train
            }
        }
    }
}
