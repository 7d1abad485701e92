import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train a2c --env ID`: advantage actor-critic (A2CTrainer.swift).
    struct TrainA2C: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "a2c",
            abstract: "Advantage actor-critic with n-step returns (--num-steps 1: one-step actor-critic).")

        @OptionGroup var control: ControlRunOptions
        @Option(help: "Parallel environments (default 16).") var numEnvs: Int?
        @Option(help: "Steps per environment per update, n of the n-step return (default 8).") var numSteps: Int?
        @Option(help: "Adam learning rate, constant (default 1e-3).") var learningRate: Double?
        @Option(help: "c₂, the entropy bonus (default 0.01).") var entCoef: Double?
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> A2CConfig {
            var c = A2CConfig(environmentID: control.env)
            c.seed = control.seed
            if let totalSteps = control.totalSteps { c.totalSteps = totalSteps }
            if let gamma = control.gamma { c.gamma = gamma }
            c.evaluationEpisodes = control.evalEpisodes
            if let numEnvs { c.environments = numEnvs }
            if let numSteps { c.rolloutSteps = numSteps }
            if let learningRate { c.learningRate = learningRate }
            if let entCoef { c.entropyCoefficient = entCoef }
            return c
        }

        func validate() throws { try control.check { try makeConfig().validate() } }

        func run() throws {
            let config = makeConfig()
            try control.run(
                algorithm: "a2c", configJSON: configJSON(config), evaluationEpisodes: config.evaluationEpisodes,
                options: options
            ) { recorder in
                try A2CTrainer(config: config).train(
                    events: recorder.handle, shouldStop: { Interruption.requested }, budget: control.budget())
            }
        }
    }
}
