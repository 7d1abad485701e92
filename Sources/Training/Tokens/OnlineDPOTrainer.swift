import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback"), with TRL 1.16's
/// `OnlineDPOTrainer` semantics (trl/experimental/online_dpo). Each step draws P training prompts, samples
/// two completions of each from the current policy π_θ (KV cache, at the sampling temperature), scores both
/// with the reward (the task's verifier or a reward-model run), subtracts the missing-EOS penalty from a
/// completion that stopped at the length limit, ranks the two — the first is chosen when its score is ≥ the
/// second's, so a tie goes to the first, as TRL's `first_half >= second_half` — and takes one AdamW step of
/// the DPO objective (`dpoLoss`, the one `train dpo` runs, through `DPOTrainer.dpoLossAndGradients`) on the
/// P ranked pairs against the frozen reference π_ref. The policy starts from the reference unless given
/// another start.
///
/// As TRL's trainer: the log-probs in the loss are taken at temperature 1; IPO's log-ratios are summed
/// over the completion tokens, not averaged as `train dpo`'s IPO; `objective/kl` is the mean over the 2P
/// completions of Σ_t (log π_θ − log π_ref) and `objective/entropy` the mean of −Σ_t log π_θ of the sampled
/// tokens. Unlike TRL (which sums over the padded width), both sums stop at each completion's end.
///
/// Symbols: P prompts per step (TRL's per-device batch size), β the implicit reward's inverse temperature.
public struct OnlineDPOTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose training prompts are sampled, whose verifier scores the completions (unless a
    /// reward model does), and whose held-out prompts the greedy evaluation uses.
    public var task: String
    /// Seed of every random draw (prompts, sampling).
    public var seed: UInt64 = 1
    /// β (TRL default 0.1) and the loss type: TRL's `loss_type`, sigmoid (default) or ipo, one of them.
    public var objective = DPOConfig()
    /// Subtracted from the score of a completion that hit `maxNewTokens` without EOS (TRL
    /// `missing_eos_penalty`; nil, TRL's default: none).
    public var missingEOSPenalty: Double?
    /// Update steps, one generation batch of P prompts × 2 completions each.
    public var steps = 200
    /// P: prompts per step; a step samples 2P completions and trains on P pairs.
    public var promptsPerStep = 16
    /// Maximum new tokens per completion (TRL `max_new_tokens`, 64 for LLMs; the tasks' answers are short).
    public var maxNewTokens = 8
    /// Sampling temperature (TRL default 0.9).
    public var temperature: Float = 0.9
    /// AdamW's base learning rate (TRL's 5e-7 suits LLMs; 1e-4, `train dpo`'s default, suits the tiny policy).
    public var learningRate = 1e-4
    /// Decay the learning rate linearly to 0 over the run (the HF Trainer's default); else constant.
    public var decayLearningRate = true
    /// Global gradient-norm clip (the HF Trainer's `max_grad_norm`).
    public var maxGradientNorm = 1.0
    /// AdamW's β₁, β₂ and ε (PyTorch defaults) and decoupled weight decay (TRL default 0).
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    public var weightDecay = 0.0
    /// Held-out prompts for the greedy evaluation.
    public var evaluationPrompts = 256
    /// Evaluate (and log samples, and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100

    public init(task: String) { self.task = task }

    /// The run's budget in completions: steps × P × 2.
    public var completionBudget: Int { steps * promptsPerStep * 2 }

    public func validate() throws {
        try objective.validate()
        guard objective.lossTypes == [.sigmoid] || objective.lossTypes == [.ipo] else {
            throw TrainingError.invalidConfiguration("online DPO's --loss is sigmoid or ipo (TRL's choices)")
        }
        guard objective.labelSmoothing == 0 else {
            throw TrainingError.invalidConfiguration("online DPO has no label smoothing")
        }
        if let missingEOSPenalty, !(missingEOSPenalty >= 0 && missingEOSPenalty.isFinite) {
            throw TrainingError.invalidConfiguration("--missing-eos-penalty must be ≥ 0 (TRL: a positive value)")
        }
        try validateSharedSettings()
    }
}

extension OnlineDPOTrainerConfig: TokenRLSettings {
    /// Never read: online DPO starts from the reference (or a given policy), never from random weights.
    var model: TransformerConfig { .tokenPolicySmall }
    var gradientNormLimit: Double? { maxGradientNorm }
}

/// The pair a prompt's two completions make: rows of the generation batch.
struct RankedPair: Equatable {
    var chosen: Int
    var rejected: Int
}

public final class OnlineDPOTrainer {
    public let config: OnlineDPOTrainerConfig
    /// The policy, seeded generator, rollout (P prompts × 2 completions, scored), optimizer, metrics, samples,
    /// evaluation and checkpoints around `update`.
    let loop: TokenRLLoop
    /// π_ref, frozen.
    let reference: TransformerPolicy
    /// π_θ.
    public var policy: TransformerPolicy { loop.policy }

    /// `reference`: the frozen reference; the policy starts from `initial` or a copy of the reference.
    /// `rewardModel`: rank completions by a trained reward model instead of the task's verifier (the
    /// evaluation keeps the verifier).
    public init(config: OnlineDPOTrainerConfig, reference: TransformerPolicy, initial: TransformerPolicy? = nil,
                rewardModel: TransformerPolicy? = nil, source: RolloutSource? = nil) throws {
        try config.validate()
        guard reference.config.vocabularySize == TokenTaskCodec().vocabulary.size else {
            throw TrainingError.invalidConfiguration(
                "the reference run's vocabulary has \(reference.config.vocabularySize) tokens, the tasks use "
                    + "\(TokenTaskCodec().vocabulary.size) — use a reference trained on PolicyLab's tasks")
        }
        self.config = config
        self.reference = reference
        loop = try TokenRLLoop(settings: config, groupSize: 2, initial: initial ?? reference.copy(),
                               rewardModel: rewardModel, source: source)
        loop.completionBudget = config.completionBudget
    }

    /// Continues from a checkpoint of a run of this config (`weights`, and `state`, its optimizer column): made
    /// with the run's reference, the trainer has its π_ref; `restore` gives it the policy's weights, AdamW, the
    /// generator and the step.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        try loop.restore(weights: weights, state: state)
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false },
                      budget: WallClockBudget = .unlimited) throws -> TokenTrainingResult {
        try loop.run(events: events, shouldStop: shouldStop, budget: budget) { rollout, step in
            let (loss, statistics, pairs) = lossAndGradients(rollout)
            guard loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the online DPO loss") }
            let gradientNorm = try loop.optimizer.step(at: step)
            // The samples' advantage column: +1 for the chosen completion of its pair, −1 for the rejected.
            var advantages = [Double](repeating: 0, count: rollout.rows)
            for pair in pairs {
                advantages[pair.chosen] = 1
                advantages[pair.rejected] = -1
            }
            return TokenUpdate(statistics: statistics, gradientNorm: gradientNorm, advantages: advantages)
        }
    }

    /// The scores the ranking uses: each reward minus `missingEOSPenalty` where the completion stopped without
    /// EOS (TRL: `rewards[~contain_eos_token] -= missing_eos_penalty`).
    static func scores(rewards: [Double], truncated: [Bool], missingEOSPenalty: Double?) -> [Double] {
        zip(rewards, truncated).map { reward, truncated in
            truncated ? reward - (missingEOSPenalty ?? 0) : reward
        }
    }

    /// Rows 2i and 2i + 1 are prompt i's two completions (the rollout groups rows by prompt); the first is
    /// chosen when its score is ≥ the second's (a tie goes to the first, as TRL's `mask = first >= second`).
    static func rankPairs(scores: [Double]) -> [RankedPair] {
        stride(from: 0, to: scores.count - 1, by: 2).map { first in
            scores[first] >= scores[first + 1] ? RankedPair(chosen: first, rejected: first + 1)
                : RankedPair(chosen: first + 1, rejected: first)
        }
    }

    /// The DPO loss on the ranked pairs of `rollout` and its gradient, left in every parameter's `grad`;
    /// the step takes exactly this. Returns the loss, the statistics TRL's trainer logs (the objective's
    /// `rewards/…` and `logps/…`, `loss`, `objective/scores`, `objective/scores_margin`, `objective/kl`,
    /// `objective/non_score_reward`, `objective/rlhf_reward`, `objective/entropy`, `val/contain_eos_token`,
    /// `beta`), and the pairs.
    func lossAndGradients(_ rollout: TokenRolloutBatch) -> (loss: Double, statistics: [String: Double],
                                                              pairs: [RankedPair]) {
        let scores = Self.scores(rewards: rollout.rewards, truncated: rollout.truncated,
                                 missingEOSPenalty: config.missingEOSPenalty)
        let ranked = Self.rankPairs(scores: scores)
        var pairs = ranked.map { pair in
            DPOTrainer.EncodedPair(prompt: rollout.encodedPrompts[pair.chosen],
                                   chosen: rollout.completions[pair.chosen],
                                   rejected: rollout.completions[pair.rejected])
        }
        let (referenceChosen, referenceRejected) = DPOTrainer.sequenceLogProbabilities(reference, pairs,
                                                                                       recordTape: false)
        for k in pairs.indices {
            pairs[k].referenceChosen = Double(referenceChosen.values[k])
            pairs[k].referenceRejected = Double(referenceRejected.values[k])
        }
        let (batchLoss, inputs) = DPOTrainer.dpoLossAndGradients(
            policy: policy, batch: pairs, objective: config.objective, countsTokens: false)
        var statistics = batchLoss.metrics
        let beta = config.objective.beta
        // Per completion: Σ_t (log π_θ − log π_ref) and Σ_t log π_θ over its sampled tokens.
        let logRatios = zip(inputs.policyChosen, inputs.referenceChosen).map { $0 - $1 }
            + zip(inputs.policyRejected, inputs.referenceRejected).map { $0 - $1 }
        let kl = mean(logRatios)
        statistics["objective/scores"] = mean(scores)
        statistics["objective/scores_margin"] = mean(ranked.map { scores[$0.chosen] - scores[$0.rejected] })
        statistics["objective/kl"] = kl
        statistics["objective/non_score_reward"] = -beta * kl
        statistics["objective/rlhf_reward"] = mean(scores) - beta * kl
        statistics["objective/entropy"] = -mean(inputs.policyChosen + inputs.policyRejected)
        statistics["val/contain_eos_token"] = mean(rollout.truncated.map { $0 ? 0 : 1 })
        statistics["beta"] = beta
        return (batchLoss.dpoLoss, statistics, ranked)
    }
}
