import ArgumentParser
import Foundation
import Environments
import Store
import Training
import Verification

extension PolicyLab.Train {
    /// `policylab train ac-average-reward`: the continuing-case actor-critic (AverageRewardActorCriticTrainer.swift).
    struct TrainAverageRewardActorCritic: ConfigurableTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "ac-average-reward",
            abstract:
                "Average-reward actor-critic with eligibility traces on a continuing task (Sutton & Barto §13.6).",
            discussion: """
                The differential TD error δ = R − R̄ + v̂(S′) − v̂(S) replaces discounting; R̄ is learned with its own \
                step size and logged as `average_reward`. At the end the greedy policy runs --eval-steps steps and \
                its mean reward per step is compared with the task's optimum r* (relative value iteration, as in \
                `policylab verify average-reward`).
                """)

        @Option(help: "Continuing environment id (\(EnvironmentRegistry.continuingIDs.joined(separator: ", "))).")
        var env: String = AccessControlQueuing.identifier
        @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
        @Option(help: "Environment steps (one update each).") var totalSteps: Int = 200_000
        @Option(help: "α^θ, the actor's SGD step size.") var actorStepSize: Double = 0.05
        @Option(help: "α^w, the critic's SGD step size.") var criticStepSize: Double = 0.1
        @Option(help: "α^R̄, the step size of the average-reward estimate.") var averageRewardStepSize: Double = 0.01
        @Option(help: "λ^θ, the actor's trace decay.") var actorLambda: Double = 0.5
        @Option(help: "λ^w, the critic's trace decay.") var criticLambda: Double = 0.5
        @Option(help: "Hidden layer sizes, comma-separated; empty (the default) for linear actor and critic.")
        var hiddenSizes: String = ""
        @Option(help: "Steps between metric rows.") var logInterval: Int = 1_000
        @Option(help: "Steps of the greedy evaluation at the end (and at each --eval-interval).")
        var evalSteps: Int = 100_000
        @Option(help: "Evaluate greedily every this many steps; 0: only at the end.") var evalInterval: Int = 0
        @Option(help: "Run name.") var name: String?
        @OptionGroup var configFile: ConfigFileOptions
        @OptionGroup var resume: ResumeOptions
        @OptionGroup var options: GlobalOptions

        func makeConfig() throws -> AverageRewardActorCriticConfig {
            var c = AverageRewardActorCriticConfig()
            c.environmentID = env
            c.seed = seed
            c.totalSteps = totalSteps
            c.actorStepSize = actorStepSize
            c.criticStepSize = criticStepSize
            c.averageRewardStepSize = averageRewardStepSize
            c.actorTraceDecay = actorLambda
            c.criticTraceDecay = criticLambda
            c.hiddenSizes = try hiddenSizes.split(separator: ",").map { part in
                guard let size = Int(part.trimmingCharacters(in: .whitespaces)), size > 0 else {
                    throw ValidationError("--hidden-sizes has '\(part)'; give positive integers such as 64,64")
                }
                return size
            }
            c.logInterval = logInterval
            c.evaluationSteps = evalSteps
            c.evaluationInterval = evalInterval
            return c
        }

        func makeRunConfig() throws -> AverageRewardActorCriticConfig { try makeConfig() }

        func validate() throws {
            if try validateConfigFile() { return }
            if resume.resume != nil { return try resume.checkNothingElseIsGiven(command: "ac-average-reward") }
            do { try makeConfig().validate() } catch let error as ValidationError { throw error } catch {
                throw ValidationError("\(error)")
            }
        }

        struct Summary: Encodable {
            let run: String
            let evalAverageReward: Double
            let averageRewardEstimate: Double
            let optimalAverageReward: Double?
            let fractionOfOptimal: Double?
            let envSteps: Int
            let wallSeconds: Double
        }

        func run() throws {
            if let command = try commandFromConfigFile() { return try command.run() }
            let (config, trainer, recorder) = try resume.resume.map(resumedRun) ?? newRun()
            let result = try recorder.record {
                try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested })
            }
            // The optimum is known exactly for the queuing task (the only continuing task so far).
            let optimum: Double? =
                config.environmentID == AccessControlQueuing.identifier
                ? relativeValueIteration(.accessControlQueuing()).optimalAverageReward : nil
            let summary = Summary(
                run: recorder.run.name, evalAverageReward: result.evaluationAverageReward,
                averageRewardEstimate: result.averageRewardEstimate, optimalAverageReward: optimum,
                fractionOfOptimal: optimum.map { result.evaluationAverageReward / $0 },
                envSteps: result.environmentSteps, wallSeconds: result.wallSeconds)
            if options.json {
                JSONOutput.print(summary)
                return
            }
            var line = "\(summary.run): greedy policy's reward per step over \(config.evaluationSteps) steps "
                + String(format: "%.4f (R̄ %.4f", summary.evalAverageReward, summary.averageRewardEstimate)
            if let optimum, let fraction = summary.fractionOfOptimal {
                line += String(format: "; optimum r* %.4f, %.1f %% of it", optimum, 100 * fraction)
            }
            print(line + String(format: "; %d env steps, %.1f s)", summary.envSteps, summary.wallSeconds))
            print("next: policylab runs show \(summary.run)")
        }

        /// A new run of the options' config.
        func newRun() throws -> (AverageRewardActorCriticConfig, AverageRewardActorCriticTrainer, RunRecorder) {
            let config = try makeConfig()
            let trainer = try AverageRewardActorCriticTrainer(config: config)
            let spec = RunSpec(
                name: name, algorithm: "ac-average-reward", target: env, configJSON: configJSON(config), seed: seed)
            return (config, trainer, try RunRecorder(store: try Store(path: options.databasePath), spec: spec,
                                                     quiet: options.json))
        }

        /// `--resume RUN`: the run's recorded config and a trainer given its last checkpoint, logging into that run.
        func resumedRun(
            _ reference: String
        ) throws -> (AverageRewardActorCriticConfig, AverageRewardActorCriticTrainer, RunRecorder) {
            let point = try ResumePoint<AverageRewardActorCriticConfig>(
                reference: reference, algorithm: "ac-average-reward", databasePath: options.databasePath)
            let trainer: AverageRewardActorCriticTrainer
            do { trainer = try AverageRewardActorCriticTrainer(config: point.config) } catch {
                throw CLIError("run \(point.run.name): \(error)")
            }
            try point.restore { try trainer.restore(weights: $0, state: $1) }
            let recorder = RunRecorder(
                store: point.store, resuming: try point.takeUp(), step: point.step, quiet: options.json)
            return (point.config, trainer, recorder)
        }
    }
}
