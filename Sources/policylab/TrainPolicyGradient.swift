import ArgumentParser
import Foundation
import Store
import Training

/// Options shared by `train reinforce` and `train a2c`.
struct PolicyGradientOptions: ParsableArguments {
    @Option(help: "Environment id (see `policylab env list`).") var env: String
    @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
    @Option(help: "Total environment steps.") var totalSteps: Int?
    @Option(help: "Parallel environments (REINFORCE: episodes per update).") var numEnvs: Int?
    @Option(help: "Adam learning rate.") var learningRate: Double?
    @Option(help: "γ, the discount.") var gamma: Double?
    @Option(help: "c₂, the entropy bonus.") var entCoef: Double?
    @Option(help: "Greedy evaluation episodes at the end.") var evalEpisodes: Int = 20
    @Option(help: "Run name.") var name: String?

    func apply(to c: inout PolicyGradientConfig) {
        c.seed = seed
        if let totalSteps { c.totalSteps = totalSteps }
        if let numEnvs { c.environments = numEnvs }
        if let learningRate { c.learningRate = learningRate }
        if let gamma { c.gamma = gamma }
        if let entCoef { c.entropyCoefficient = entCoef }
        c.evaluationEpisodes = evalEpisodes
    }

    func check(_ config: PolicyGradientConfig) throws {
        guard EnvironmentIDs.all.contains(env) else { throw ValidationError("unknown environment '\(env)'; choose one of \(EnvironmentIDs.all.joined(separator: ", "))") }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
    }

    func run(_ config: PolicyGradientConfig, options: GlobalOptions) throws {
        let store = try Store(path: options.databasePath)
        let recorder = try RunRecorder(store: store, spec: RunSpec(name: name, algorithm: config.algorithm.rawValue, target: env, configJSON: configJSON(config), seed: seed), quiet: options.json)
        let result = try recorder.record { try PolicyGradientTrainer(config: config).train(events: recorder.handle, shouldStop: { Interruption.requested }) }
        let summary = PolicyLab.Train.TrainPPO.Summary(run: recorder.run.name, evalReturnMean: result.evaluationReturnMean, evalReturnStd: result.evaluationReturnStandardDeviation,
                                                       envSteps: result.environmentSteps, wallSeconds: result.wallSeconds, sps: result.stepsPerSecond)
        if options.json { JSONOutput.print(summary) } else {
            print(String(format: "%@: greedy evaluation over %d episodes: %.1f ± %.1f  (%d env steps, %.1f s)", summary.run, config.evaluationEpisodes, summary.evalReturnMean, summary.evalReturnStd, summary.envSteps, summary.wallSeconds))
        }
    }
}

extension PolicyLab.Train {
    struct TrainReinforce: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reinforce", abstract: "REINFORCE with Monte-Carlo returns, with a learned baseline unless --no-baseline.")
        @OptionGroup var pg: PolicyGradientOptions
        @Flag(inversion: .prefixedNo, help: "Subtract a learned baseline V(s).") var baseline = true
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> PolicyGradientConfig {
            var c = PolicyGradientConfig(algorithm: .reinforce, environmentID: pg.env)
            pg.apply(to: &c)
            c.baseline = baseline
            return c
        }
        func validate() throws { try pg.check(makeConfig()) }
        func run() throws { try pg.run(makeConfig(), options: options) }
    }

    struct TrainActorCriticLambda: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ac-lambda", abstract: "Online actor-critic(λ) with eligibility traces, one environment (Sutton & Barto §13.5).")
        @OptionGroup var pg: PolicyGradientOptions
        @Option(help: "λ, the trace decay.") var lambda: Double = 0.9
        @Option(help: "α_θ, the actor's SGD step size.") var actorStepSize: Double = 1e-3
        @Option(help: "α_w, the critic's SGD step size.") var criticStepSize: Double = 1e-3
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> PolicyGradientConfig {
            var c = PolicyGradientConfig(algorithm: .actorCriticLambda, environmentID: pg.env)
            pg.apply(to: &c)
            c.environments = 1
            c.traceLambda = lambda
            c.actorStepSize = actorStepSize
            c.criticStepSize = criticStepSize
            return c
        }
        func validate() throws { try pg.check(makeConfig()) }
        func run() throws { try pg.run(makeConfig(), options: options) }
    }

    struct TrainOffPolicy: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "off-policy", abstract: "Off-policy actor-critic: rollouts from a stored behaviour policy, truncated importance weights min(π/μ, ρ̄).")
        @OptionGroup var pg: PolicyGradientOptions
        @Option(help: "Updates between refreshes of the behaviour policy μ.") var behaviourRefresh: Int = 4
        @Option(help: "ρ̄, the importance-weight truncation.") var truncation: Double = 1
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> PolicyGradientConfig {
            var c = PolicyGradientConfig(algorithm: .offPolicy, environmentID: pg.env)
            pg.apply(to: &c)
            c.behaviourRefresh = behaviourRefresh
            c.importanceTruncation = truncation
            return c
        }
        func validate() throws { try pg.check(makeConfig()) }
        func run() throws { try pg.run(makeConfig(), options: options) }
    }

    struct TrainA2C: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "a2c", abstract: "Advantage actor-critic with n-step returns (--num-steps 1: one-step actor-critic).")
        @OptionGroup var pg: PolicyGradientOptions
        @Option(help: "Steps per environment per update (n of the n-step return).") var numSteps: Int?
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> PolicyGradientConfig {
            var c = PolicyGradientConfig(algorithm: .actorCritic, environmentID: pg.env)
            pg.apply(to: &c)
            if let numSteps { c.rolloutSteps = numSteps }
            return c
        }
        func validate() throws { try pg.check(makeConfig()) }
        func run() throws { try pg.run(makeConfig(), options: options) }
    }
}
