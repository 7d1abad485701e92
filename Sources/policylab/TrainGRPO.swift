import ArgumentParser
import Foundation
import NN
import Objectives
import Policies
import Store
import Tasks
import Training

extension GRPOLossType: ExpressibleByArgument {}
extension RewardScaling: ExpressibleByArgument {}

/// Loads the latest checkpoint of a run as a token policy (for --init / --ref).
func loadPolicy(run reference: String, store: Store) throws -> (RunInfo, TransformerPolicy) {
    let run = try store.run(reference)
    guard let checkpoint = try store.checkpoint(runID: run.id) else {
        throw CLIError("run \(run.name) has no checkpoint — pick a run that finished at least one evaluation")
    }
    do {
        return (run, try TransformerPolicy.decode(configJSON: checkpoint.configJSON, weights: checkpoint.weights))
    } catch {
        throw CLIError("run \(run.name) does not hold a token policy (\(run.algorithm) on \(run.target)) — pick a run of sft, grpo, dpo, rloo or ppo on a task")
    }
}

/// Options shared by the token RL commands (`train grpo`, `train rloo`, `train ppo --task`).
struct TokenRLOptions: ParsableArguments {
    @Option(help: "Task name (sort, reverse, copy, copy-letters, addition, digitsum).") var task: String?
    @Option(name: .customLong("init"), help: "Start from this run's latest checkpoint instead of random weights.") var initRun: String?
    @Option(help: "Score with this reward-model run instead of the task's reward (`task` or a run).") var reward: String = "task"
    @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
    @Option(help: "Update steps (one generation batch each).") var steps: Int = 600
    @Option(help: "Prompts per step.") var prompts: Int = 8
    @Option(help: "Completions per prompt (G); the budget is steps × prompts × samples completions.") var samples: Int = 8
    @Option(help: "Maximum new tokens per completion.") var maxNewTokens: Int = 8
    @Option(help: "Sampling temperature.") var temperature: Float = 1
    @Option(help: "Learning rate (tokens: AdamW, default 1e-3, linear decay to 0; --env: Adam, per-env default).") var learningRate: Double?
    @Flag(help: "Keep the learning rate constant.") var constantLr = false
    @Option(help: "Global gradient-norm clip (tokens: default 1.0 for GRPO and RLOO, none for PPO, as in TRL; --env: per-env default).") var maxGradNorm: Double?
    @Option(help: "Adam β₁.") var adamBeta1: Double = 0.9
    @Option(help: "Adam β₂.") var adamBeta2: Double = 0.999
    @Option(help: "Adam ε.") var adamEpsilon: Double = 1e-8
    @Option(help: "AdamW weight decay on matrices and embeddings.") var weightDecay: Double = 0
    @Option(help: "Model width when starting from random weights.") var modelWidth: Int = 64
    @Option(help: "Transformer layers when starting from random weights.") var layers: Int = 2
    @Flag(help: "Give the LM head its own weights instead of sharing the token embedding (GPT-2 ties them).") var untiedEmbeddings = false
    @Option(help: "Held-out prompts for the greedy evaluation.") var evalPrompts: Int = 256
    @Option(help: "Evaluate every this many steps.") var evalInterval: Int = 100
    @Option(help: "Run name.") var name: String?

    func makeConfig(_ algorithm: TokenRLAlgorithm) -> TokenRLConfig {
        var c = TokenRLConfig(task: task ?? "")
        c.algorithm = algorithm
        c.seed = seed
        c.steps = steps
        c.promptsPerStep = prompts
        c.objective.groupSize = samples
        c.objective.maxCompletionLength = maxNewTokens
        c.maxNewTokens = maxNewTokens
        c.temperature = temperature
        c.learningRate = learningRate ?? 1e-3
        c.decayLearningRate = !constantLr
        c.maxGradientNorm = maxGradNorm
        c.adamBeta1 = adamBeta1
        c.adamBeta2 = adamBeta2
        c.adamEpsilon = adamEpsilon
        c.weightDecay = weightDecay
        c.model.modelWidth = modelWidth
        c.model.mlpWidth = 4 * modelWidth
        c.model.layers = layers
        c.model.tiedEmbeddings = !untiedEmbeddings
        c.evaluationPrompts = evalPrompts
        c.evaluationInterval = evalInterval
        return c
    }

    func check(_ config: TokenRLConfig) throws {
        do {
            _ = try TaskRegistry.task(named: config.task)
            try config.validate()
        } catch { throw ValidationError("\(error)") }
    }

    func run(_ config: TokenRLConfig, options: GlobalOptions) throws {
        let store = try Store(path: options.databasePath)
        var initial: TransformerPolicy?
        var parent: Int64?
        if let initRun {
            let (run, policy) = try loadPolicy(run: initRun, store: store)
            (initial, parent) = (policy, run.id)
        }
        var rewardModel: TransformerPolicy?
        if reward != "task" {
            let (run, model) = try loadPolicy(run: reward, store: store)
            guard run.algorithm == "reward-model" else { throw CLIError("run \(run.name) is a \(run.algorithm) run, not a reward model — train one with `policylab train reward-model`") }
            rewardModel = model
        }
        let trainer: TokenRLTrainer
        do { trainer = try TokenRLTrainer(config: config, initial: initial, rewardModel: rewardModel) } catch { throw CLIError("\(error)") }
        let recorder = try RunRecorder(store: store, spec: RunSpec(name: name, algorithm: config.algorithm.rawValue, target: config.task, parentRunID: parent, configJSON: configJSON(config), seed: seed), quiet: options.json)
        let result = try recorder.record { try trainer.train(events: recorder.handle, shouldStop: { Interruption.requested }) }
        printTokenSummary(run: recorder.run.name, result: result, json: options.json)
    }
}

extension PolicyLab.Train {
    struct TrainGRPO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grpo",
            abstract: "GRPO on a toy task with its verifiable reward (TRL 1.16 semantics; random weights unless --init).")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: "β: weight of the k3 KL to the starting policy.") var beta: Double = 0
        @Option(help: "ε_low.") var epsilon: Double = 0.2
        @Option(help: "ε_high (default: ε_low).") var epsilonHigh: Double?
        @Option(help: "grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo or vespo.") var lossType: GRPOLossType = .dapo
        @Option(help: "group, batch or none.") var scaleRewards: RewardScaling = .group
        @Option(help: "μ: optimizer steps per generation batch (TRL num_iterations).") var iterations: Int = 1
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> TokenRLConfig {
            var c = rl.makeConfig(.grpo)
            c.objective.beta = beta
            c.objective.epsilonLow = epsilon
            c.objective.epsilonHigh = epsilonHigh
            c.objective.lossType = lossType
            c.objective.scaleRewards = scaleRewards
            c.objective.iterations = iterations
            return c
        }

        func validate() throws {
            guard rl.task != nil else { throw ValidationError("--task is required") }
            try rl.check(makeConfig())
        }

        func run() throws { try rl.run(makeConfig(), options: options) }
    }

    struct TrainRLOO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rloo",
            abstract: "RLOO on a toy task: leave-one-out baseline, k1 sequence KL in the reward (TRL 1.16 semantics).")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: "β: weight of the sequence KL penalty in the reward.") var beta: Double = 0.05
        @Option(help: "ε of the clipped ratio.") var epsilon: Double = 0.2
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> TokenRLConfig {
            var c = rl.makeConfig(.rloo)
            c.rloo.beta = beta
            c.rloo.epsilonLow = epsilon
            return c
        }

        func validate() throws {
            guard rl.task != nil else { throw ValidationError("--task is required") }
            try rl.check(makeConfig())
        }

        func run() throws { try rl.run(makeConfig(), options: options) }
    }
}

struct TokenSummary: Encodable {
    let run: String
    let exactMatch: Double
    let meanReward: Double
    let steps: Int
    let completions: Int
    let wallSeconds: Double
    let samplingSeconds: Double
    let updateSeconds: Double
}

func printTokenSummary(run: String, result: TokenTrainingResult, json: Bool) {
    let summary = TokenSummary(run: run, exactMatch: result.evaluation.exactMatch, meanReward: result.evaluation.meanReward, steps: result.steps,
                               completions: result.completions, wallSeconds: result.wallSeconds, samplingSeconds: result.samplingSeconds, updateSeconds: result.updateSeconds)
    if json { JSONOutput.print(summary); return }
    print(String(format: "%@: greedy exact match %.1f%%, mean reward %.3f on %d held-out prompts (%d steps, %d completions, %.1f s)",
                 run, 100 * summary.exactMatch, summary.meanReward, result.evaluation.prompts, summary.steps, summary.completions, summary.wallSeconds))
    print("next: policylab inspect \(run)   ·   policylab sample \(run) --prompt …")
}
