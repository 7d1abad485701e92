import ArgumentParser
import Foundation
import Objectives
import Store
import Training

extension PolicyLab.Train {
    /// `policylab train ppo --env ID`: CleanRL-style PPO on a classic-control environment.
    struct TrainPPO: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "ppo",
            abstract: "PPO on a classic-control environment (CleanRL's ppo.py; tuned per-env defaults).",
            discussion: "Ends with a greedy evaluation over --eval-episodes episodes. PPO on a toy task is "
                + "`policylab train token-ppo --task NAME`.")

        @Option(help: "Environment id (see `policylab env list`).") var env: String?
        @Option(help: .hidden) var task: String?
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Adam learning rate (per-env default), annealed linearly to 0 unless --no-anneal-lr.")
        var learningRate: Double?
        @Option(help: "Global gradient-norm clip (per-env default).") var maxGradNorm: Double?
        @Option(help: "Total environment steps.") var totalSteps: Int?
        @Option(help: "Parallel environments.") var numEnvs: Int?
        @Option(help: "Steps per environment per rollout.") var numSteps: Int?
        @Flag(help: "Keep the learning rate constant.") var noAnnealLr = false
        @Option(help: "γ, the discount.") var gamma: Double?
        @Option(help: "λ of GAE.") var gaeLambda: Double?
        @Option(help: "Epochs per batch.") var updateEpochs: Int?
        @Option(help: "Minibatches per epoch.") var numMinibatches: Int?
        @Option(help: "ε, the surrogate clip range.") var clipCoef: Double?
        @Option(help: "c₂, the entropy coefficient.") var entCoef: Double?
        @Option(help: "c₁, the value-loss coefficient.") var vfCoef: Double?
        @Option(help: "Stop an update's epochs once approx-KL exceeds this.") var targetKl: Double?
        @Flag(inversion: .prefixedNo, help: "Clip the value loss (CleanRL clip_vloss).") var clipVloss = true
        @Flag(inversion: .prefixedNo, help: "Normalise advantages per minibatch.") var normAdv = true
        @Option(help: "On truncation: bootstrap with V(final obs) (sb3) or treat as termination (cleanrl).")
        var truncation: TruncationHandling?
        @Option(help: "Greedy evaluation episodes at the end (and at each --eval-interval).") var evalEpisodes: Int = 20
        @Option(help: "Evaluate greedily every this many updates; 0: only at the end.") var evalInterval: Int = 0
        @Option(help: "Run name.") var name: String?
        @Option(help: ArgumentHelp("Stop after this many seconds of training: the update under way finishes, "
            + "then the run is evaluated and finished; --total-steps stays the cap and the annealing's length."))
        var maxSeconds: Double?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        enum TruncationHandling: String, ExpressibleByArgument { case sb3, cleanrl }

        func makeConfig() -> ControlPPOConfig {
            var c = ControlPPOConfig.defaults(for: env ?? "")
            c.seed = seed
            if let totalSteps { c.totalSteps = totalSteps }
            if let numEnvs { c.environments = numEnvs }
            if let numSteps { c.rolloutSteps = numSteps }
            if let learningRate { c.learningRate = learningRate }
            if noAnnealLr { c.annealLearningRate = false }
            if let gamma { c.gamma = gamma }
            if let gaeLambda { c.gaeLambda = gaeLambda }
            if let updateEpochs { c.epochs = updateEpochs }
            if let numMinibatches { c.minibatches = numMinibatches }
            if let clipCoef { c.objective.clipCoefficient = clipCoef }
            if let entCoef { c.objective.entropyCoefficient = entCoef }
            if let vfCoef { c.objective.valueCoefficient = vfCoef }
            if let maxGradNorm { c.maxGradientNorm = maxGradNorm }
            c.targetKL = targetKl
            c.objective.clipValueLoss = clipVloss
            c.objective.normalizeAdvantages = normAdv
            if let truncation { c.bootstrapOnTruncation = truncation == .sb3 }
            c.evaluationEpisodes = evalEpisodes
            c.evaluationInterval = evalInterval
            return c
        }

        func makeRunConfig() -> ControlPPOConfig { makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "ppo") }
            if let task {
                throw ValidationError("`train ppo` trains on an environment (--env ID); for PPO on a task use "
                    + "`policylab train token-ppo --task \(task)`")
            }
            guard let env else {
                throw ValidationError("give --env ID (see `policylab env list`) or --config FILE; PPO on a task is "
                    + "`policylab train token-ppo --task NAME`")
            }
            if let maxSeconds, !(maxSeconds > 0) {
                throw ValidationError("--max-seconds must be positive (or left out for no time limit)")
            }
            guard EnvironmentIDs.all.contains(env) else {
                throw ValidationError("unknown environment '\(env)'; choose one of "
                    + "\(EnvironmentIDs.all.joined(separator: ", "))")
            }
            do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            if resume.resume != nil {
                return try resume.resumeControlRun(
                    ControlPPOTrainer.self, algorithm: "ppo", options: options, maxSeconds: maxSeconds, showsSPS: true)
            }
            let config = makeConfig()
            try ControlRunOptions.record(
                name: name, environmentID: env ?? "", seed: seed, algorithm: "ppo", configJSON: configJSON(config),
                evaluationEpisodes: config.evaluationEpisodes, options: options, showsSPS: true
            ) { recorder in
                try ControlPPOTrainer(config: config).train(
                    events: recorder.handle, shouldStop: { Interruption.requested },
                    budget: WallClockBudget(seconds: maxSeconds))
            }
        }
    }
}
