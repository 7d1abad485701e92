import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train off-policy --env ID`: off-policy actor-critic (OffPolicyActorCriticTrainer.swift).
    struct TrainOffPolicy: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "off-policy",
            abstract:
                "Off-policy actor-critic: rollouts from a stored behaviour policy, truncated importance weights "
                + "min(π/μ, ρ̄).")

        @OptionGroup var control: ControlRunOptions
        @OptionGroup var nStep: NStepActorCriticOptions
        @Option(help: "Updates between refreshes of the behaviour policy μ.") var behaviourRefresh: Int = 4
        @Option(help: "ρ̄, the importance-weight truncation.") var truncation: Double = 1
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> OffPolicyActorCriticConfig {
            var c = OffPolicyActorCriticConfig(environmentID: control.environmentID)
            control.apply(to: &c)
            nStep.apply(to: &c)
            c.behaviourRefresh = behaviourRefresh
            c.importanceTruncation = truncation
            return c
        }

        func makeRunConfig() -> OffPolicyActorCriticConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "off-policy") }
            try control.check { try makeConfig().validate() }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeControlRun(
                    OffPolicyActorCriticTrainer.self, algorithm: "off-policy", options: options,
                    maxSeconds: control.maxSeconds)
            }
            let config = makeConfig()
            try control.run(
                algorithm: "off-policy", configJSON: configJSON(config), evaluationEpisodes: config.evaluationEpisodes,
                options: options
            ) { recorder in
                try OffPolicyActorCriticTrainer(config: config).train(
                    events: recorder.handle, shouldStop: { Interruption.requested },
                    budget: control.budget())
            }
        }
    }
}
