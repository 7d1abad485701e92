import Autograd
import Environments
import Foundation
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// Environment, RL and token-policy throughput for `policylab bench`, at the settings of ANCHORS.md.
public enum SystemBenchmarks {
    /// Raw CartPole-v1 steps/s: one environment stepped directly (random actions pre-drawn, resets on episode end),
    /// or a vector of 8 through `VectorEnvironment`.
    public static func cartPoleStepsPerSecond(vectorized: Bool, steps: Int = 2_000_000) throws -> Double {
        var generator = SeededGenerator(seed: 1)
        let actions = (0..<4096).map { _ in generator.nextInt(below: 2) }
        if vectorized {
            let copies = 8
            let vector = try VectorEnvironment(id: "CartPole-v1", count: copies, generator: &generator)
            let batches = max(1, steps / copies / 4)
            let seconds = NumericBenchmarks.time {
                for i in 0..<batches { _ = try? vector.step((0..<copies).map { .discrete(actions[(i * copies + $0) & 4095]) }) }
            }
            return Double(batches * copies) / seconds
        }
        var environment = CartPole()
        _ = environment.reset(generator: &generator)
        let seconds = NumericBenchmarks.time {
            for i in 0..<steps {
                environment.stepDiscrete(actions[i & 4095])
                if environment.lastTerminated || environment.elapsedSteps >= environment.timeLimit { _ = environment.reset(generator: &generator) }
            }
        }
        return Double(steps) / seconds
    }

    /// PPO on CartPole-v1 with its defaults, environment steps per second over `totalSteps` (no evaluation).
    public static func ppoCartPoleStepsPerSecond(totalSteps: Int = 25_600) throws -> Double {
        var config = ControlPPOConfig.defaults(for: "CartPole-v1")
        config.totalSteps = totalSteps
        config.evaluationEpisodes = 0
        return try ControlPPOTrainer(config: config).train(events: { _ in }).stepsPerSecond
    }

    /// Generated tokens/s of KV-cache sampling as the PyTorch anchor measures it: 1-token prompt, ctx − 1 new
    /// tokens, multinomial at T = 1.
    public static func samplingTokensPerSecond(config: TransformerConfig, batch: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 3)
        let policy = TransformerPolicy(config: config, generator: &generator)
        let prompts = Array(repeating: [1], count: batch)
        let options = SamplingOptions(temperature: 1, maxNewTokens: config.contextLength - 1)
        let seconds = NumericBenchmarks.medianSeconds(rounds: 3, minimumSeconds: minimumSeconds) {
            _ = policy.sample(prompts: prompts, options: options, generator: &generator)
        }
        return Double(batch * (config.contextLength - 1)) / seconds
    }

    /// Completions/s of a token RL trainer at TRL's anchor setting (8 prompts × 8 completions of 8 new
    /// tokens on `sort`, random init), with the share of time spent sampling. `beta` is GRPO's β, RLOO's β
    /// or PPO's KL coefficient; PPO runs TRL's 4 epochs per batch.
    public static func tokenRLCompletionsPerSecond(_ algorithm: TokenRLAlgorithm, model: TransformerConfig, beta: Double, steps: Int = 20) throws -> (completionsPerSecond: Double, samplingShare: Double) {
        var config = TokenRLConfig(task: "sort")
        config.algorithm = algorithm
        config.model = model
        config.steps = steps
        switch algorithm {
        case .grpo: config.objective.beta = beta
        case .rloo: config.rloo.beta = beta
        case .ppo: config.ppo.klCoefficient = beta
        }
        config.evaluationPrompts = 0
        config.evaluationInterval = 0
        let clock = StepClock()
        let result = try TokenRLTrainer(config: config).train(events: clock.record)
        let total = result.samplingSeconds + result.updateSeconds
        return (clock.itemsPerSecond(itemsPerStep: config.promptsPerStep * config.objective.groupSize) ?? Double(result.completions) / total,
                result.samplingSeconds / total)
    }

    public static func grpoCompletionsPerSecond(model: TransformerConfig, beta: Double, steps: Int = 20) throws -> (completionsPerSecond: Double, samplingShare: Double) {
        try tokenRLCompletionsPerSecond(.grpo, model: model, beta: beta, steps: steps)
    }

    /// DPO pairs/s at TRL's anchor setting (batch 64, sigmoid, β 0.1), reference log-probs precomputed
    /// or computed on every batch (`precomputeReference` false, TRL's default).
    public static func dpoPairsPerSecond(model: TransformerConfig, steps: Int = 20, precomputeReference: Bool = true) throws -> Double {
        var generator = SeededGenerator(seed: 4)
        let task = try SortTask()
        let pairs = makePreferencePairs(task: task, count: 512, using: &generator).map { PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
        var modelConfig = model
        modelConfig.vocabularySize = Vocabulary.anchor.size
        let reference = TransformerPolicy(config: modelConfig, generator: &generator)
        var config = DPOTrainingConfig(task: nil)
        config.steps = steps
        config.evaluationInterval = 0
        config.heldOutFraction = 0
        config.precomputeReference = precomputeReference
        let trainer = try DPOTrainer(config: config, pairs: pairs, reference: reference)
        let clock = StepClock()
        let result = try trainer.train(events: clock.record)
        return clock.itemsPerSecond(itemsPerStep: config.batchSize) ?? Double(result.pairs) / result.wallSeconds
    }
}

/// Times the steady state of a trainer from its per-step metrics events, as TRL's anchors do (the
/// first `warmUp` steps, which allocate and fault in the buffers, are left out; so is the final
/// checkpoint, which comes after the last step's metrics).
final class StepClock: @unchecked Sendable {
    private var ends: [UInt64] = []
    let warmUp = 3

    func record(_ event: TrainingEvent) throws {
        if case .metrics(_, _, let values) = event, values["loss"] != nil { ends.append(DispatchTime.now().uptimeNanoseconds) }
    }

    /// Items per second over the steps after the warm-up, or nil when there are too few steps.
    func itemsPerSecond(itemsPerStep: Int) -> Double? {
        guard ends.count > warmUp + 1 else { return nil }
        let seconds = Double(ends[ends.count - 1] - ends[warmUp]) / 1e9
        return Double(itemsPerStep * (ends.count - 1 - warmUp)) / seconds
    }
}
