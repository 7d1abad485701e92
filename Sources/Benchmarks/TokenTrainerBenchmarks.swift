import NN
import Policies
import Randomness
import Tasks
import Training

/// The token RL trainers the throughput benchmarks time.
public enum TokenRLAlgorithm: Sendable { case grpo, rloo, ppo }

/// Token trainers at TRL's anchor settings (`anchors/trl`): 8 prompts × G 8 completions of 8 new tokens
/// on `sort`, DPO batches of 64 pairs, random initial weights.
public enum TokenTrainerBenchmarks {
    /// Completions/s of a token RL trainer, TRL's `completions_per_s_steady` (64 completions over the
    /// median step time after 3 warm-up steps), with the share of the whole run's time spent sampling.
    /// `beta` is GRPO's β, RLOO's β or PPO's KL coefficient; PPO runs TRL's 4 epochs per batch.
    public static func tokenRLCompletionsPerSecond(
        _ algorithm: TokenRLAlgorithm, model: TransformerConfig, beta: Double, steps: Int
    ) throws -> (completionsPerSecond: Double, samplingShare: Double) {
        let clock: StepClock
        let result: TokenTrainingResult
        // 8 prompts × G 8 completions: each trainer's default.
        let completionsPerStep = 64
        switch algorithm {
        case .grpo:
            var config = GRPOTrainerConfig(task: "sort")
            (config.model, config.steps, config.evaluationPrompts, config.evaluationInterval) = (model, steps, 0, 0)
            config.objective.beta = beta
            let trainer = try GRPOTrainer(config: config)
            clock = StepClock(warmUp: 3)
            result = try trainer.train(events: clock.record)
        case .rloo:
            var config = RLOOTrainerConfig(task: "sort")
            (config.model, config.steps, config.evaluationPrompts, config.evaluationInterval) = (model, steps, 0, 0)
            config.objective.beta = beta
            let trainer = try RLOOTrainer(config: config)
            clock = StepClock(warmUp: 3)
            result = try trainer.train(events: clock.record)
        case .ppo:
            var config = TokenPPOTrainerConfig(task: "sort")
            (config.model, config.steps, config.evaluationPrompts, config.evaluationInterval) = (model, steps, 0, 0)
            config.objective.klCoefficient = beta
            let trainer = try TokenPPOTrainer(config: config)
            clock = StepClock(warmUp: 3)
            result = try trainer.train(events: clock.record)
        }
        let completionsPerSecond = try clock.itemsPerSecond(itemsPerStep: completionsPerStep)
        return (completionsPerSecond, result.samplingSeconds / (result.samplingSeconds + result.updateSeconds))
    }

    /// DPO pairs/s at TRL's anchor setting (batch 64, sigmoid, β 0.1), reference log-probs precomputed
    /// or computed on every batch (`precomputeReference` false, TRL's default): TRL's
    /// `pairs_per_s_steady` (64 pairs over the median step time after 5 warm-up steps).
    public static func dpoPairsPerSecond(
        model: TransformerConfig, steps: Int, precomputeReference: Bool
    ) throws -> Double {
        var generator = SeededGenerator(seed: 4)
        let task = try SortTask()
        let pairs = makePreferencePairs(task: task, count: 512, using: &generator).map {
            PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected)
        }
        var modelConfig = model
        modelConfig.vocabularySize = Vocabulary.anchor.size
        let reference = TransformerPolicy(config: modelConfig, generator: &generator)
        var config = DPOTrainerConfig(task: nil)
        config.steps = steps
        config.evaluationInterval = 0
        config.heldOutFraction = 0
        config.precomputeReference = precomputeReference
        let trainer = try DPOTrainer(config: config, pairs: pairs, reference: reference)
        let clock = StepClock(warmUp: 5)
        _ = try trainer.train(events: clock.record)
        return try clock.itemsPerSecond(itemsPerStep: config.batchSize)
    }

    /// GRPO from random weights on `sort` at TRL's anchor budget (600 steps × 8 prompts × G 8): wall seconds
    /// from the start of `train()` to the end of its last step, as TRL's `train_s` (trainer construction and
    /// the greedy evaluation after training left out), and the greedy exact-match rate on 256 held-out prompts
    /// after it (evaluated once, after the timed steps). `.trl` is TRL's anchor setting (`grpo_run.py --size s
    /// --beta 0.0 --steps 600`), the run TRL's figure is read against; `.default` is `train grpo`'s own
    /// recipe, whose dynamic sampling may spend the same 38,400 completions in fewer update steps.
    public static func grpoSortRun(preset: GRPOPreset = .trl, steps: Int = 600) throws
        -> (seconds: Double, greedyExact: Double) {
        var config = GRPOTrainerConfig(task: "sort", preset: preset)
        config.model = .tokenPolicySmall
        config.steps = steps
        config.evaluationPrompts = 256
        config.evaluationInterval = 0
        let trainer = try GRPOTrainer(config: config)
        let clock = StepClock(warmUp: 0)
        let result = try trainer.train(events: clock.record)
        return (try clock.secondsToStep(result.steps), result.evaluation.exactMatch)
    }
}

/// Times a trainer's steps from its per-step metrics events, as TRL's `StepTimer` callback does: step i
/// lasts from the end of step i − 1 (the start of training for step 1) to the end of step i; the first
/// `warmUp` steps, which allocate and fault in the buffers, are left out of the steady figure, and so
/// is everything after the last step's metrics (final evaluation, checkpoint).
final class StepClock: @unchecked Sendable {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var ends: [ContinuousClock.Instant] = []
    let warmUp: Int

    /// Starts the clock: make it just before calling `train`.
    init(warmUp: Int) {
        self.warmUp = warmUp
        start = clock.now
    }

    func record(_ event: TrainingEvent) throws {
        if case .metrics(_, _, let values) = event, values["loss"] != nil { ends.append(clock.now) }
    }

    /// Items per second at the median step time after the warm-up.
    func itemsPerSecond(itemsPerStep: Int) throws -> Double {
        guard ends.count > warmUp else { throw BenchmarkError.tooFewSteps(steps: ends.count, warmUp: warmUp) }
        let boundaries = [start] + ends
        let durations = zip(boundaries, boundaries.dropFirst()).map { BenchmarkTiming.seconds($0.duration(to: $1)) }
        let steady = durations.dropFirst(warmUp).sorted()
        let middle = steady.count / 2
        let median = steady.count % 2 == 1 ? steady[middle] : (steady[middle - 1] + steady[middle]) / 2
        return Double(itemsPerStep) / median
    }

    /// Seconds from the start to the end of step `step`.
    func secondsToStep(_ step: Int) throws -> Double {
        guard step >= 1, ends.count >= step else {
            throw BenchmarkError.tooFewSteps(steps: ends.count, warmUp: step - 1)
        }
        return BenchmarkTiming.seconds(start.duration(to: ends[step - 1]))
    }
}
