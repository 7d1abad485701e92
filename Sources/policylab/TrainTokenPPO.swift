import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train token-ppo --task NAME`: PPO on tokens with a value model (`TokenPPOTrainer`).
    struct TrainTokenPPO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "token-ppo",
            abstract: "PPO on a toy task with a value model (TRL 1.9's PPOTrainer; random weights unless --init).",
            discussion: "Each step samples --samples completions of --prompts prompts, scores them, puts the "
                + "per-token KL to the starting policy in the reward, computes GAE from a separate value model "
                + "and takes --ppo-epochs AdamW steps on the clipped policy and value losses. PPO on a "
                + "classic-control environment is `policylab train ppo --env ID`.")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: "β_KL: per-token KL penalty in the reward (TRL kl_coef).") var klCoef: Double = 0.05
        @Option(help: "K: epochs over the whole batch per generation batch (TRL num_ppo_epochs).")
        var ppoEpochs: Int = 4
        @Option(help: "ε: the token ratio is clipped to [1 − ε, 1 + ε] (TRL cliprange).")
        var clipCoef: Double = 0.2
        @Option(help: "c₁: weight of the clipped value loss (TRL vf_coef).") var vfCoef: Double = 0.1
        @Option(help: "γ: discount over response tokens.") var gamma: Double = 1
        @Option(help: "λ of GAE over response tokens.") var gaeLambda: Double = 0.95
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> TokenPPOTrainerConfig {
            var c = TokenPPOTrainerConfig(task: rl.task)
            rl.apply(to: &c)
            c.groupSize = rl.samples
            c.maxGradientNorm = rl.maxGradNorm
            c.objective.klCoefficient = klCoef
            c.epochs = ppoEpochs
            c.objective.clipRange = clipCoef
            c.objective.valueCoefficient = vfCoef
            c.objective.gamma = gamma
            c.objective.lambda = gaeLambda
            return c
        }

        func makeRunConfig() -> TokenPPOTrainerConfig { makeConfig() }

        /// The run records --reward and --dataset beside the config when they are not the defaults.
        func recordedRunConfigJSON() throws -> String { rl.source.recordedConfigJSON(try makeRunConfig()) }
        static let recordedExtraKeys = ["reward": "String", "dataset": "String"]

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "token-ppo") }
            try rl.check(makeConfig())
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeTokenRun(algorithm: "token-ppo", options: options, maxSeconds: rl.maxSeconds) {
                    (config: TokenPPOTrainerConfig, initial, source) in
                    let trainer = try TokenPPOTrainer(config: config, initial: initial, source: source)
                    return (trainer.restore, trainer.train)
                }
            }
            let config = makeConfig()
            try rl.run(config, algorithm: "token-ppo", options: options) { config, initial, source in
                try TokenPPOTrainer(config: config, initial: initial, source: source).train
            }
        }
    }
}
