import ArgumentParser
import Training

extension PolicyLab.Train {
    /// `policylab train off-policy --env ID`: off-policy actor-critic (OffPolicyActorCriticTrainer.swift).
    struct TrainOffPolicy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "off-policy",
            abstract:
                "Off-policy actor-critic: rollouts from a stored behaviour policy, truncated importance weights "
                + "min(π/μ, ρ̄).")

        @OptionGroup var control: ControlRunOptions
        @Option(help: "Parallel environments (default 16).") var numEnvs: Int?
        @Option(help: "Steps per environment per update, n of the n-step return (default 8).") var numSteps: Int?
        @Option(help: "Adam learning rate, constant (default 1e-3).") var learningRate: Double?
        @Option(help: "c₂, the entropy bonus (default 0.01).") var entCoef: Double?
        @Option(help: "Updates between refreshes of the behaviour policy μ.") var behaviourRefresh: Int = 4
        @Option(help: "ρ̄, the importance-weight truncation.") var truncation: Double = 1
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> OffPolicyActorCriticConfig {
            var c = OffPolicyActorCriticConfig(environmentID: control.env)
            c.seed = control.seed
            if let totalSteps = control.totalSteps { c.totalSteps = totalSteps }
            if let gamma = control.gamma { c.gamma = gamma }
            c.evaluationEpisodes = control.evalEpisodes
            if let numEnvs { c.environments = numEnvs }
            if let numSteps { c.rolloutSteps = numSteps }
            if let learningRate { c.learningRate = learningRate }
            if let entCoef { c.entropyCoefficient = entCoef }
            c.behaviourRefresh = behaviourRefresh
            c.importanceTruncation = truncation
            return c
        }

        func validate() throws { try control.check { try makeConfig().validate() } }

        func run() throws {
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
