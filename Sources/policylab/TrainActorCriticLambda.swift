import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train ac-lambda --env ID`: online actor-critic(λ) (ActorCriticLambdaTrainer.swift).
    struct TrainActorCriticLambda: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "ac-lambda",
            abstract:
                "Online actor-critic(λ) with eligibility traces and plain SGD, one environment (Sutton & Barto §13.5).")

        @OptionGroup var control: ControlRunOptions
        @Option(help: "λ, the trace decay.") var lambda: Double = 0.9
        @Option(help: "α_θ, the actor's SGD step size.") var actorStepSize: Double = 1e-3
        @Option(help: "α_w, the critic's SGD step size.") var criticStepSize: Double = 1e-3
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> ActorCriticLambdaConfig {
            var c = ActorCriticLambdaConfig(environmentID: control.environmentID)
            control.apply(to: &c)
            c.traceLambda = lambda
            c.actorStepSize = actorStepSize
            c.criticStepSize = criticStepSize
            return c
        }

        func makeRunConfig() -> ActorCriticLambdaConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "ac-lambda") }
            try control.check { try makeConfig().validate() }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeControlRun(
                    ActorCriticLambdaTrainer.self, algorithm: "ac-lambda", options: options,
                    maxSeconds: control.maxSeconds)
            }
            let config = makeConfig()
            try control.run(
                algorithm: "ac-lambda", configJSON: configJSON(config), evaluationEpisodes: config.evaluationEpisodes,
                options: options
            ) { recorder in
                try ActorCriticLambdaTrainer(config: config).train(
                    events: recorder.handle, shouldStop: { Interruption.requested },
                    budget: control.budget())
            }
        }
    }
}
