import ArgumentParser
import Training

/// Options of the n-step actor-critics (`train a2c`, `train off-policy`), every one used by both.
struct NStepActorCriticOptions: ParsableArguments {
    @Option(help: "Parallel environments (default 16).") var numEnvs: Int?
    @Option(help: "Steps per environment per update, n of the n-step return (default 8).") var numSteps: Int?
    @Option(help: "Adam learning rate, constant (default 1e-3).") var learningRate: Double?
    @Option(help: "c₂, the entropy bonus (default 0.01).") var entCoef: Double?

    /// Sets what is given and leaves the algorithm's defaults otherwise.
    func apply(to config: inout some NStepActorCriticConfig) {
        if let numEnvs { config.environments = numEnvs }
        if let numSteps { config.rolloutSteps = numSteps }
        if let learningRate { config.learningRate = learningRate }
        if let entCoef { config.entropyCoefficient = entCoef }
    }
}
