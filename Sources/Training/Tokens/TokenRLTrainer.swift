import Autograd
import Foundation
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// Reinforcement learning on a toy task with a verifiable reward, one loop for three algorithms so that
/// they share sampling, budget and evaluation: GRPO (TRL 1.16 `GRPOTrainer`), RLOO (TRL 1.16
/// `RLOOTrainer`) and PPO with a value head (TRL 1.9 `PPOTrainer`). Each step samples G completions per
/// prompt with the KV cache and scores them; the budget unit is the completion.
public enum TokenRLAlgorithm: String, Codable, Sendable, CaseIterable {
    case grpo, rloo, ppo
}

public typealias GRPOTrainingConfig = TokenRLConfig

public struct TokenRLConfig: Codable, Sendable, Equatable {
    public var algorithm = TokenRLAlgorithm.grpo
    public var task: String
    public var seed: UInt64 = 1
    /// The policy's shape when starting from random weights (TRL anchor size s by default).
    public var model = TransformerConfig.tokenPolicySmall
    /// Update steps (one generation batch each).
    public var steps = 600
    /// Prompts per step; the batch has prompts × G completions.
    public var promptsPerStep = 8
    /// G, ε, β, loss type, reward scaling, …
    public var objective: GRPOConfig
    public var maxNewTokens = 8
    /// Sampling temperature during training.
    public var temperature: Float = 1
    public var learningRate = 1e-3
    /// Decay the learning rate linearly to 0 over the run (TRL's default scheduler).
    public var decayLearningRate = true
    /// Global gradient-norm clip; nil: each algorithm's TRL default (`gradientClip`).
    public var maxGradientNorm: Double?
    /// The clip in force: `maxGradientNorm`, else 1.0 for GRPO and RLOO (the HF Trainer's
    /// `max_grad_norm`, which their trainers run under) and none for PPO, whose TRL 1.12 loop calls
    /// `optimizer.step()` without clipping (measured here: clipping at 1.0 cut token PPO's greedy exact
    /// rate on `sort` from 41.4 / 2.3 / 9.0 / 28.1 % to 12.9 / 2.3 / 4.7 / 16.4 %, seeds 1–4).
    public var gradientClip: Float {
        if let maxGradientNorm { return Float(maxGradientNorm) }
        return algorithm == .ppo ? .infinity : 1
    }
    /// Adam's β₁ and β₂ (TRL/PyTorch defaults 0.9 and 0.999).
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    /// Adam's ε (PyTorch default 1e-8).
    public var adamEpsilon = 1e-8
    /// AdamW's decoupled weight decay λ on matrices and embeddings (TRL default 0).
    public var weightDecay = 0.0
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples) every this many steps (0: only at the end).
    public var evaluationInterval = 100
    /// RLOO: β of the sequence KL in the reward, ε.
    public var rloo = RLOOConfig()
    /// PPO: KL coefficient, γ, λ, clip ranges, c₁; epochs per batch (TRL `num_ppo_epochs`).
    public var ppo = TokenPPOConfig()
    public var ppoEpochs = 4
    /// PPO: a separate value network (TRL's `value_model`, a copy of the starting policy with its own
    /// value head) instead of a value head on the policy's trunk, so value-loss gradients do not move
    /// the policy's representation.
    public var separateValueModel = true

    public init(task: String) {
        self.task = task
        objective = GRPOConfig()
        objective.groupSize = 8
        objective.maxCompletionLength = 8
    }

    public func validate() throws {
        try objective.validate(batchRows: promptsPerStep * objective.groupSize)
        if algorithm == .rloo { try rloo.validate(batchRows: promptsPerStep * objective.groupSize) }
        if algorithm == .ppo { try ppo.validate() }
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidConfiguration(message) } }
        try require(steps > 0 && promptsPerStep > 0, "--steps and --prompts must be positive")
        try require(maxNewTokens > 0, "--max-new-tokens must be positive")
        try require(temperature > 0 && temperature.isFinite, "--temperature must be > 0")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require((0..<1).contains(adamBeta1) && (0..<1).contains(adamBeta2), "--adam-beta1 and --adam-beta2 must be in [0, 1)")
        try require(adamEpsilon > 0 && adamEpsilon.isFinite, "--adam-epsilon must be > 0")
        try require(algorithm == .grpo || objective.iterations == 1, "μ > 1 (several updates per generation batch) is GRPO's option — use --iterations 1 for \(algorithm.rawValue)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "--weight-decay must be ≥ 0")
        try require(maxGradientNorm.map { $0 > 0 && $0.isFinite } ?? true, "--max-grad-norm must be > 0")
    }
}

public struct TokenTrainingResult: Codable, Sendable, Equatable {
    public var evaluation: TokenEvaluation
    public var steps: Int
    public var completions: Int
    public var wallSeconds: Double
    /// Seconds spent sampling vs updating.
    public var samplingSeconds: Double
    public var updateSeconds: Double
}

public typealias GRPOTrainer = TokenRLTrainer

public final class TokenRLTrainer {
    public let config: GRPOTrainingConfig
    public let policy: TransformerPolicy
    let reference: TransformerPolicy?
    /// PPO's value network when `separateValueModel` (else values come from the policy's value head).
    let valueModel: TransformerPolicy?
    /// Everything the optimizer updates: the policy, and the value network when there is one.
    let trainableParameters: [Tensor]
    let task: any SequenceTask
    let codec = TokenTaskCodec()
    var generator: SeededGenerator
    let optimizer: AdamW

    /// Scores completions instead of the task's verifiable reward, when set (`--reward RUN`).
    let rewardModel: RewardModelScorer?

    /// `initial`: start from these weights (e.g. an SFT run's checkpoint) instead of random ones.
    /// `rewardModel`: score with a trained reward model instead of the task's reward (evaluation keeps the task's).
    public init(config: GRPOTrainingConfig, initial: TransformerPolicy? = nil, rewardModel: TransformerPolicy? = nil) throws {
        self.rewardModel = rewardModel.map(RewardModelScorer.init)
        try config.validate()
        self.config = config
        task = try TaskRegistry.task(named: config.task)
        generator = SeededGenerator(seed: config.seed)
        if let initial {
            guard initial.config.vocabularySize == codec.vocabulary.size else {
                throw TrainingError.invalidConfiguration("the initial policy has a vocabulary of \(initial.config.vocabularySize) tokens, the tasks use \(codec.vocabulary.size) — start from a run trained on PolicyLab's tasks")
            }
            policy = initial
        } else {
            var model = config.model
            model.vocabularySize = codec.vocabulary.size
            policy = TransformerPolicy(config: model, generator: &generator)
        }
        // The reference policy is the starting policy, frozen (needed only for β > 0).
        let needsReference = (config.algorithm == .grpo && config.objective.beta > 0) || (config.algorithm == .rloo && config.rloo.beta > 0) || config.algorithm == .ppo
        reference = needsReference ? policy.copy() : nil
        valueModel = config.algorithm == .ppo && config.separateValueModel ? policy.copy() : nil
        trainableParameters = policy.parameters + (valueModel?.parameters ?? [])
        optimizer = AdamW(parameters: trainableParameters, config: .init(learningRate: Float(config.learningRate), beta1: Float(config.adamBeta1), beta2: Float(config.adamBeta2), epsilon: Float(config.adamEpsilon), weightDecay: Float(config.weightDecay)),
                          decayMask: trainableParameters.map { $0.rank >= 2 })
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> TokenTrainingResult {
        let start = Date()
        let g = config.objective.groupSize
        let heldOut = TokenTaskEvaluation.heldOutPrompts(task: task, count: config.evaluationPrompts, seed: config.seed)
        var samplingSeconds = 0.0, updateSeconds = 0.0
        var completionsUsed = 0
        for step in 1...config.steps {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            if config.decayLearningRate { optimizer.learningRate = Float(config.learningRate * (1 - Double(step - 1) / Double(config.steps))) }
            // Generation: G completions per prompt.
            let sampleStart = Date()
            let prompts = (0..<config.promptsPerStep).map { _ in task.makePrompt(using: &generator) }
            let rows = prompts.flatMap { Array(repeating: $0, count: g) }
            let encodedPrompts = try rows.map { try codec.encodePrompt($0.prompt) }
            let completions = policy.sample(
                prompts: encodedPrompts,
                options: SamplingOptions(temperature: config.temperature, maxNewTokens: config.maxNewTokens, stopToken: codec.vocabulary.eosID),
                generator: &generator)
            let texts = completions.map { codec.completionText($0.tokens) }
            let rewards = try rewardModel.map { $0.scores(prompts: encodedPrompts, completions: completions.map(\.tokens)) }
                ?? zip(rows, texts).map { try task.reward(prompt: $0.prompt, completion: $1) }
            completionsUsed += rows.count
            samplingSeconds += secondsSince(sampleStart)

            // Update.
            let updateStart = Date()
            let update = try updatePolicy(prompts: encodedPrompts, completions: completions.map(\.tokens), rewards: rewards, step: step)
            updateSeconds += secondsSince(updateStart)

            var metrics = update.statistics
            metrics["loss"] = update.loss
            metrics["grad_norm"] = Double(update.gradientNorm)
            metrics["reward"] = mean(rewards)
            let groupStandardDeviations = stride(from: 0, to: rewards.count, by: g).map { unbiasedStandardDeviation(Array(rewards[$0..<($0 + g)])) }
            metrics["reward_std"] = mean(groupStandardDeviations)
            metrics["frac_reward_zero_std"] = mean(groupStandardDeviations.map { $0 < 1e-8 ? 1 : 0 })
            metrics["completions/mean_length"] = mean(completions.map { Double($0.tokens.count) })
            metrics["learning_rate"] = Double(optimizer.learningRate)
            try events(.metrics(step: step, samplesSeen: completionsUsed, values: metrics))

            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let (evaluation, samples) = try TokenTaskEvaluation.evaluate(policy: policy, task: task, codec: codec, prompts: heldOut, maxNewTokens: config.maxNewTokens)
                try events(.metrics(step: step, samplesSeen: completionsUsed, values: ["eval/exact_match": evaluation.exactMatch, "eval/reward": evaluation.meanReward]))
                let trainingSamples = (0..<min(4, rows.count)).map { GeneratedSample(prompt: rows[$0 * g % rows.count].prompt, completion: texts[$0 * g % rows.count], reward: rewards[$0 * g % rows.count], logProbability: Double(completions[$0 * g % rows.count].totalLogProbability)) }
                try events(.samples(step: step, trainingSamples + samples))
                try events(.progress(String(format: "step %d/%d  completions %d  reward %.3f  greedy exact %.1f%%  (%.1f s)", step, config.steps, completionsUsed, metrics["reward"]!, 100 * evaluation.exactMatch, secondsSince(start))))
                let weights = policy.encodedWeights()
                try events(.checkpoint(step: step, configJSON: weights.configJSON, weights: weights.bytes, optimizer: nil))
                if isLast {
                    return TokenTrainingResult(evaluation: evaluation, steps: step, completions: completionsUsed, wallSeconds: secondsSince(start),
                                               samplingSeconds: samplingSeconds, updateSeconds: updateSeconds)
                }
            }
        }
        preconditionFailure("the last step returns")
    }
}
