import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train rloo --task NAME`: RLOO (`RLOOTrainer`).
    struct TrainRLOO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "rloo",
            abstract: "RLOO on a toy task: leave-one-out baseline, k1 sequence KL in the reward (TRL 1.16 semantics).",
            discussion: "Each step samples --samples completions of --prompts prompts, scores them, subtracts β "
                + "times each completion's KL to the starting policy, and takes one AdamW step on the clipped "
                + "sequence-level surrogate.")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: "β: weight of the sequence KL penalty in the reward (0: no reference policy).")
        var beta: Double = 0.05
        @Option(help: "ε: the sequence ratio is clipped to [1 − ε, 1 + ε].") var epsilon: Double = 0.2
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> RLOOTrainerConfig {
            var c = RLOOTrainerConfig(task: rl.task)
            rl.apply(to: &c)
            c.objective.groupSize = rl.samples
            if let maxGradNorm = rl.maxGradNorm { c.maxGradientNorm = maxGradNorm }
            c.objective.beta = beta
            c.objective.epsilonLow = epsilon
            return c
        }

        func makeRunConfig() -> RLOOTrainerConfig { makeConfig() }

        /// The run records --reward and --dataset beside the config when they are not the defaults.
        func recordedRunConfigJSON() throws -> String { rl.source.recordedConfigJSON(try makeRunConfig()) }
        static let recordedExtraKeys = ["reward": "String", "dataset": "String"]

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "rloo") }
            try rl.check(makeConfig())
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeTokenRun(algorithm: "rloo", options: options, maxSeconds: rl.maxSeconds) {
                    (config: RLOOTrainerConfig, initial, source) in
                    let trainer = try RLOOTrainer(config: config, initial: initial, source: source)
                    return (trainer.restore, trainer.train)
                }
            }
            let config = makeConfig()
            try rl.run(config, algorithm: "rloo", options: options) { config, initial, source in
                try RLOOTrainer(config: config, initial: initial, source: source).train
            }
        }
    }
}
