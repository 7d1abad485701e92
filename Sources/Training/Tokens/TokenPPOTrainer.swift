import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// PPO on tokens with a value model (Ziegler et al. 2019; Ouyang et al. 2022), with the semantics of TRL
/// 1.9's `PPOTrainer`. Each step draws P prompts and samples G completions of each with the KV cache,
/// scores them, pads the responses to a fixed width, puts a per-token k1 KL penalty to the starting
/// policy in the reward (β_KL) and the score after EOS, computes GAE (γ, λ) over the response tokens
/// from the value model, then takes K epochs of AdamW steps on the whole batch: the clipped policy loss
/// (ε) plus c₁ times the clipped value loss. The budget unit is the completion.
///
/// Symbols: P prompts per step, G completions per prompt (PolicyLab's budget; TRL samples one per
/// prompt), β_KL `objective.klCoefficient`, γ, λ, ε `objective.clipRange`, c₁ `objective.valueCoefficient`,
/// K `epochs`.
public struct TokenPPOTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose prompts and verifiable reward to train on.
    public var task: String
    /// Seed of every random draw (weights, prompts, sampling).
    public var seed: UInt64 = 1
    /// The policy's shape when starting from random weights (TRL anchor size s by default).
    public var model = TransformerConfig.tokenPolicySmall
    /// Update steps, one generation batch each.
    public var steps = 600
    /// P: prompts per step; a batch has P·G completions.
    public var promptsPerStep = 8
    /// G: completions per prompt.
    public var groupSize = 8
    /// β_KL, γ, λ, ε, the value clip range, c₁: TRL's `PPOConfig`. Its `temperature` is set from
    /// `temperature` by `init`.
    public var objective = TokenPPOConfig()
    /// K: epochs over the whole batch per generation batch (TRL `num_ppo_epochs`).
    public var epochs = 4
    /// A separate value network (TRL's `value_model`, a copy of the starting policy with its own value
    /// head) instead of a value head on the policy's trunk, so value-loss gradients do not move the
    /// policy's representation.
    public var separateValueModel = true
    /// Response width: maximum new tokens per completion (TRL `response_length`).
    public var maxNewTokens = 8
    /// Sampling temperature; the log-probs of the policy and the reference are taken at it too.
    public var temperature: Float = 1 {
        didSet { objective.temperature = Double(temperature) }
    }
    /// AdamW's base learning rate.
    public var learningRate = 1e-3
    /// Decay the learning rate linearly to 0 over the run (TRL's default scheduler); else constant.
    public var decayLearningRate = true
    /// Global gradient-norm clip; nil: none, as TRL 1.12's PPO loop calls `optimizer.step()` without
    /// clipping (measured here: clipping at 1.0 cut token PPO's greedy exact rate on `sort` from
    /// 41.4 / 2.3 / 9.0 / 28.1 % to 12.9 / 2.3 / 4.7 / 16.4 %, seeds 1–4).
    public var maxGradientNorm: Double?
    /// AdamW's β₁, β₂ and ε (PyTorch defaults 0.9, 0.999, 1e-8).
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// AdamW's decoupled weight decay λ on matrices and embeddings (TRL default 0).
    public var weightDecay = 0.0
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples, and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100

    public init(task: String) {
        self.task = task
        objective.temperature = Double(temperature)
    }

    public func validate() throws {
        try objective.validate()
        try validateSharedSettings()
        guard groupSize >= 1 else { throw TrainingError.invalidConfiguration("--samples must be at least 1") }
        guard epochs >= 1 else { throw TrainingError.invalidConfiguration("--ppo-epochs must be at least 1") }
    }
}

extension TokenPPOTrainerConfig: TokenRLSettings {
    var gradientNormLimit: Double? { maxGradientNorm }
}

public final class TokenPPOTrainer {
    public let config: TokenPPOTrainerConfig
    /// The policy, seeded generator, rollout, optimizer (of the policy and, when there is one, the value
    /// network), metrics, samples, evaluation and checkpoints around `update`.
    let loop: TokenRLLoop
    /// π_ref: the starting policy, frozen (the KL penalty in the reward).
    let reference: TransformerPolicy
    /// The value network when `separateValueModel` (else values come from the policy's value head).
    let valueModel: TransformerPolicy?
    /// π_θ.
    public var policy: TransformerPolicy { loop.policy }

    /// `initial`: start from these weights instead of random ones. `rewardModel`: score completions with a
    /// trained reward model instead of the task's reward (the evaluation keeps the task's).
    public init(config: TokenPPOTrainerConfig, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil, source: RolloutSource? = nil) throws {
        try config.validate()
        self.config = config
        // The value network starts as a copy of the starting policy (TRL's `value_model`).
        loop = try TokenRLLoop(settings: config, groupSize: config.groupSize, initial: initial,
                               rewardModel: rewardModel, source: source) { policy in
            config.separateValueModel ? [policy.copy()] : []
        }
        reference = loop.policy.copy()
        valueModel = loop.companions.first
    }

    /// Continues from a checkpoint of a run of this config (`weights`, and `state`, its optimizer column): made
    /// with the same starting weights, the trainer has the run's reference policy; `restore` gives it the
    /// policy's weights, the value network's (saved in the state), AdamW over both, the generator and the step.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try loop.restore(weights: weights, state: state)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> TokenTrainingResult {
        try loop.run(events: events, shouldStop: shouldStop, budget: budget, update: update)
    }

    /// TRL 1.9's PPO update: responses padded to `maxNewTokens`, values of the state before each token, the
    /// KL to the reference in the per-token reward, the score after EOS, GAE, then K epochs on the whole
    /// batch. Metrics: TRL's `objective/kl` (mean over completions of the summed per-token k1 KL),
    /// `objective/entropy`, `objective/non_score_reward`, `objective/rlhf_reward`, `objective/scores`, the
    /// last epoch's loss statistics (`policy/clipfrac_avg`, …), and `entropy`: the mean per-token entropy of
    /// the policy over the completion tokens at sampling time, read off the rollout's forward pass (TRL's GRPO
    /// and RLOO name; TRL's PPO logs the sequence sum of −log π as `objective/entropy`).
    private func update(_ batch: TokenRolloutBatch, step: Int) throws -> TokenUpdate {
        let prompts = batch.encodedPrompts
        let rows = prompts.count, width = config.maxNewTokens, pad = loop.codec.vocabulary.padID
        let responses = batch.completions.map {
            Array($0.prefix(width)) + [Int](repeating: pad, count: max(0, width - $0.count))
        }
        let time = (prompts.map(\.count).max() ?? 1) + width
        var tokens = [Int](repeating: pad, count: rows * time)
        for b in 0..<rows {
            for (t, token) in (prompts[b] + responses[b]).enumerated() { tokens[b * time + t] = token }
        }
        // Response token t of row b is predicted at position promptLength − 1 + t: index maps from the
        // (B, T−1) log-prob and (B, T) value layouts to (B, width). The mask marks the completion's own tokens.
        var logProbabilityIndex = [Int](), valueIndex = [Int](), completionMask = [Double]()
        for b in 0..<rows {
            for t in 0..<width {
                logProbabilityIndex.append(b * (time - 1) + prompts[b].count - 1 + t)
                valueIndex.append(b * time + prompts[b].count - 1 + t)
                completionMask.append(t < batch.completions[b].count ? 1 : 0)
            }
        }
        var entropies: [Float]? = []
        let (rolloutLogProbabilities, rolloutValues) = Tensor.withoutGradients { () -> ([Double], [Double]) in
            let (logp, values) = logProbabilitiesAndValues(tokens: tokens, rows: rows, time: time,
                                                           entropies: &entropies)
            return (logProbabilityIndex.map { Double(logp.data[$0]) }, valueIndex.map { Double(values.data[$0]) })
        }
        let entropy = maskedMean(logProbabilityIndex.map { entropies![$0] }, mask: completionMask)
        let referenceLogProbabilities = Tensor.withoutGradients {
            let logp = reference.nextTokenLogProbabilities(tokens: tokens, batch: rows, time: time,
                                                           temperature: config.temperature)
            return logProbabilityIndex.map { Double(logp.data[$0]) }
        }
        let ppoRollout = tokenPPORollout(
            config: config.objective, responses: responses.flatMap { $0 }, rows: rows, tokens: width, padID: pad,
            eosID: loop.codec.vocabulary.eosID, logProbabilities: rolloutLogProbabilities,
            referenceLogProbabilities: referenceLogProbabilities, values: rolloutValues, scores: batch.rewards)
        var last: TokenPPOLoss?
        var norm: Float = 0
        for _ in 0..<config.epochs {
            var noEntropies: [Float]?
            let (logp, values) = logProbabilitiesAndValues(tokens: tokens, rows: rows, time: time,
                                                           entropies: &noEntropies)
            let loss = tokenPPOLoss(config: config.objective, rollout: ppoRollout, rowIndices: Array(0..<rows),
                                    newLogProbabilities: logProbabilityIndex.map { Double(logp.data[$0]) },
                                    newValues: valueIndex.map { Double(values.data[$0]) })
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the PPO loss") }
            var logProbabilityGradient = [Double](repeating: 0, count: logp.count)
            var valueGradient = [Double](repeating: 0, count: values.count)
            for (k, i) in logProbabilityIndex.enumerated() {
                logProbabilityGradient[i] = loss.logProbabilityGradient[k]
            }
            for (k, i) in valueIndex.enumerated() { valueGradient[i] = loss.valueGradient[k] }
            PolicyGradientTerms.backward([(logp, logProbabilityGradient), (values, valueGradient)],
                                         parameters: loop.optimizer.parameters)
            norm = try loop.optimizer.step(at: step)
            last = loss
        }
        var statistics = ppoRollout.statistics.values.merging(last!.statistics.values) { rollout, _ in rollout }
        statistics["loss"] = last!.loss
        statistics["entropy"] = entropy
        // Per row, for the logged samples: A and V at the first completion token, the KL of each completion token.
        let firstTokens = (0..<rows).map { $0 * width }
        return TokenUpdate(
            statistics: statistics, gradientNorm: norm, advantages: firstTokens.map { ppoRollout.advantages[$0] },
            values: firstTokens.map { rolloutValues[$0] },
            tokenKL: (0..<rows).map { b in
                (0..<min(width, batch.completions[b].count)).map { ppoRollout.kl[b * width + $0] }
            })
    }

    /// Next-token log-probs (B, T−1) of the policy at the sampling temperature and values (B, T) of the value
    /// network (or of the policy's value head); with `entropies` non-nil, also the policy's entropy at each
    /// position (B·(T−1)), from the same forward pass.
    private func logProbabilitiesAndValues(tokens: [Int], rows: Int, time: Int,
                                           entropies: inout [Float]?) -> (Tensor, Tensor) {
        guard let valueModel else {
            return policy.nextTokenLogProbabilitiesAndValues(tokens: tokens, batch: rows, time: time,
                                                             temperature: config.temperature, entropies: &entropies)
        }
        let logp = policy.nextTokenLogProbabilities(tokens: tokens, batch: rows, time: time,
                                                    temperature: config.temperature, entropies: &entropies)
        return (logp, valueModel.forward(tokens: tokens, batch: rows, time: time).values)
    }
}
