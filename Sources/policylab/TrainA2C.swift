import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train a2c --env ID`: advantage actor-critic (A2CTrainer.swift).
    struct TrainA2C: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "a2c",
            abstract: "Advantage actor-critic with n-step returns (--num-steps 1: one-step actor-critic).")

        @OptionGroup var control: ControlRunOptions
        @OptionGroup var nStep: NStepActorCriticOptions
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> A2CConfig {
            var c = A2CConfig(environmentID: control.environmentID)
            control.apply(to: &c)
            nStep.apply(to: &c)
            return c
        }

        func makeRunConfig() -> A2CConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "a2c") }
            try control.check { try makeConfig().validate() }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeControlRun(
                    A2CTrainer.self, algorithm: "a2c", options: options, maxSeconds: control.maxSeconds)
            }
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
