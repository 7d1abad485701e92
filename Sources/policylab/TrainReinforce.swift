import ArgumentParser
import Objectives
import Training

extension DiscountWeighting: ExpressibleByArgument {}

extension PolicyLab.Train {
    /// `policylab train reinforce --env ID`: REINFORCE on whole episodes (ReinforceTrainer.swift).
    struct TrainReinforce: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "reinforce",
            abstract: "REINFORCE with Monte-Carlo returns, with a learned baseline unless --no-baseline.")

        @OptionGroup var control: ControlRunOptions
        @Option(help: "Episodes per update, one per parallel environment (default 8).") var numEnvs: Int?
        @Option(help: "Adam learning rate, constant (default 1e-3).") var learningRate: Double?
        @Option(help: "c₂, the entropy bonus (default 0).") var entCoef: Double?
        @Flag(inversion: .prefixedNo, help: "Subtract a learned baseline V(s).") var baseline = true
        @Option(help: "Policy-term weights: none (default, as CleanRL; biased if γ < 1) or theorem (γ^t, unbiased).")
        var discountWeighting: DiscountWeighting?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> ReinforceConfig {
            var c = ReinforceConfig(environmentID: control.environmentID)
            control.apply(to: &c)
            if let numEnvs { c.environments = numEnvs }
            if let learningRate { c.learningRate = learningRate }
            if let entCoef { c.entropyCoefficient = entCoef }
            c.baseline = baseline
            if let discountWeighting { c.discountWeighting = discountWeighting }
            return c
        }

        func makeRunConfig() -> ReinforceConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "reinforce") }
            try control.check { try makeConfig().validate() }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeControlRun(
                    ReinforceTrainer.self, algorithm: "reinforce", options: options, maxSeconds: control.maxSeconds)
            }
            let config = makeConfig()
            try control.run(
                algorithm: "reinforce", configJSON: configJSON(config), evaluationEpisodes: config.evaluationEpisodes,
                options: options
            ) { recorder in
                try ReinforceTrainer(config: config).train(
                    events: recorder.handle, shouldStop: { Interruption.requested },
                    budget: control.budget())
            }
        }
    }
}
