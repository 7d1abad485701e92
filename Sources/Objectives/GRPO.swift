import Foundation

/// How GRPO reduces per-token losses to a scalar (TRL 1.16 `loss_type`).
public enum GRPOLossType: String, Codable, Sendable, CaseIterable {
    /// Sequence mean, then batch mean (Shao et al. 2024, DeepSeekMath).
    case grpo
    /// Token mean over the local micro-batch.
    case bnpo
    /// Σ / (rows × max_completion_length): length-unbiased (Liu et al. 2025, "Dr. GRPO").
    case drGRPO = "dr_grpo"
    /// Σ / tokens in the whole generation batch (Yu et al. 2025, DAPO) — TRL's default.
    case dapo
    /// Clipped-IS-weight policy optimisation: −min(ρ, ε_high)·A·log π with the weight detached.
    case cispo
    /// Soft adaptive policy optimisation: −(4/τ)·σ(τ(ρ − 1))·A.
    case sapo
    /// Length-unbiased sequence sums, batch mean.
    case luspo
    /// Variational sequence-level weights φ (detached): −φ·A·log π.
    case vespo
}

/// How group-relative advantages are scaled (TRL `scale_rewards`). Centring always uses the group mean.
public enum RewardScaling: String, Codable, Sendable, CaseIterable {
    case group, batch, none
}

/// Where the importance ratio lives (TRL `importance_sampling_level`).
public enum ImportanceSamplingLevel: String, Codable, Sendable {
    /// ρ_t = exp(log π_t − log π_old,t).
    case token
    /// ρ = exp(mean_t(log π_t − log π_old,t)) per sequence (GSPO).
    case sequence
}

/// Group Relative Policy Optimization (Shao et al. 2024) and its variants, as TRL 1.16's
/// `GRPOTrainer`. Paper symbols: G group size, ε_low/ε_high clip range, β KL weight, μ iterations.
public struct GRPOConfig: Codable, Sendable, Equatable {
    /// G: completions per prompt.
    public var groupSize = 8
    public var scaleRewards = RewardScaling.group
    /// ε_low: lower clip range, ρ ≥ 1 − ε_low.
    public var epsilonLow = 0.2
    /// ε_high: upper clip range, ρ ≤ 1 + ε_high (nil: equal to ε_low). For cispo it is the weight cap.
    public var epsilonHigh: Double?
    /// β: weight of the k3 KL to the reference policy (0: no reference needed).
    public var beta = 0.0
    public var lossType = GRPOLossType.dapo
    public var importanceSamplingLevel = ImportanceSamplingLevel.token
    /// δ: two-sided cap on the unclipped ratio (nil: none).
    public var delta: Double?
    /// Multiply the k3 KL by the importance ratio (TRL default true).
    public var useBiasCorrectionKL = true
    /// The configured maximum completion length (dr_grpo's constant normaliser).
    public var maxCompletionLength = 8
    /// μ: optimisation iterations per generation batch (1: fully on-policy, ρ ≡ 1).
    public var iterations = 1
    /// τ₊, τ₋ for sapo.
    public var sapoTemperaturePositive = 1.0
    public var sapoTemperatureNegative = 1.05
    /// k₊, λ₊, k₋, λ₋ for vespo.
    public var vespoKPositive = 2.0
    public var vespoLambdaPositive = 3.0
    public var vespoKNegative = 3.0
    public var vespoLambdaNegative = 2.0

    public init() {}

    public var effectiveEpsilonHigh: Double { epsilonHigh ?? epsilonLow }

    /// Refuses impossible settings; `batchRows` is the number of completions per step, if known.
    public func validate(batchRows: Int? = nil) throws {
        guard groupSize >= 2 else {
            throw ObjectiveConfigurationError(
                "group size G = \(groupSize) is below 2, so group-relative advantages are undefined",
                fix: "use --samples 2 or more per prompt")
        }
        if let batchRows, batchRows % groupSize != 0 {
            throw ObjectiveConfigurationError(
                "a batch of \(batchRows) completions is not divisible by the group size \(groupSize)",
                fix: "make the batch a multiple of G")
        }
        guard beta >= 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) is negative", fix: "use β ≥ 0 (0 disables the KL term)")
        }
        guard epsilonLow > 0 && effectiveEpsilonHigh > 0 else {
            throw ObjectiveConfigurationError(
                "ε_low = \(epsilonLow), ε_high = \(effectiveEpsilonHigh) must be > 0", fix: "use e.g. 0.2 and 0.28")
        }
        guard iterations >= 1 else {
            throw ObjectiveConfigurationError("μ = \(iterations) iterations", fix: "use 1 or more")
        }
        guard maxCompletionLength >= 1 else {
            throw ObjectiveConfigurationError("max completion length \(maxCompletionLength)", fix: "use 1 or more")
        }
        if let delta, !(delta > 1) {
            throw ObjectiveConfigurationError("δ = \(delta) must exceed 1", fix: "use e.g. 1.25, or no δ")
        }
    }
}

/// Group-relative advantages and the statistics behind them.
public struct GroupAdvantages: Sendable {
    public var advantages: [Double]
    public var groupMeans: [Double]
    public var standardDeviations: [Double]
}

/// A_i = r_i − μ_g, divided by (σ + 1e-4) unless scaling is `.none`; σ is the unbiased std of the
/// group (`.group`, also computed for logging with `.none`) or of the whole batch (`.batch`).
/// Groups of equal rewards get A = 0; NaN becomes 0. Rows are grouped consecutively (G per prompt).
public func grpoAdvantages(rewards: [Double], groupSize: Int, scaling: RewardScaling) -> GroupAdvantages {
    precondition(
        groupSize > 0 && rewards.count % groupSize == 0, "\(rewards.count) rewards do not form groups of \(groupSize)")
    var means = [Double](repeating: 0, count: rewards.count)
    var deviations = [Double](repeating: 0, count: rewards.count)
    let batchDeviation = unbiasedStandardDeviation(rewards)
    for start in stride(from: 0, to: rewards.count, by: groupSize) {
        let group = Array(rewards[start..<(start + groupSize)])
        let m = mean(group), s = unbiasedStandardDeviation(group)
        for i in start..<(start + groupSize) {
            means[i] = m
            deviations[i] = scaling == .batch ? batchDeviation : s
        }
    }
    let advantages = (0..<rewards.count).map { i -> Double in
        var a = rewards[i] - means[i]
        if scaling != .none { a /= deviations[i] + 1e-4 }
        return a.isNaN ? 0 : a
    }
    return GroupAdvantages(advantages: advantages, groupMeans: means, standardDeviations: deviations)
}

/// Per-token inputs of the GRPO loss for B rows × T tokens.
public struct TokenBatch: Sendable {
    public var rows: Int
    public var tokens: Int
    /// m: 1 on real completion tokens, [B·T].
    public var mask: [Double]
    /// log π_θ of the sampled tokens, [B·T] (0 at padding).
    public var logProbabilities: [Double]
    /// log π_old at sampling time, [B·T]; nil when μ = 1 (then π_old = π_θ, detached).
    public var oldLogProbabilities: [Double]?
    /// log π_ref, [B·T]; needed when β > 0.
    public var referenceLogProbabilities: [Double]?

    public init(
        rows: Int, tokens: Int, mask: [Double], logProbabilities: [Double], oldLogProbabilities: [Double]? = nil,
        referenceLogProbabilities: [Double]? = nil
    ) {
        precondition(
            mask.count == rows * tokens && logProbabilities.count == rows * tokens,
            "token arrays must be [\(rows)·\(tokens)]")
        self.rows = rows
        self.tokens = tokens
        self.mask = mask
        self.logProbabilities = logProbabilities
        self.oldLogProbabilities = oldLogProbabilities
        self.referenceLogProbabilities = referenceLogProbabilities
    }

    /// Σ_t m for row i.
    public func length(_ i: Int) -> Double { (0..<tokens).reduce(0) { $0 + mask[i * tokens + $1] } }
}

/// The GRPO loss of one micro-batch with its TRL intermediates and the gradient ∂loss/∂log π_θ.
public struct GRPOLoss: Sendable {
    public var loss: Double
    /// ρ per token [B·T], or per row [B] at sequence level (δ-capped when δ is set).
    public var importanceRatio: [Double]
    public var perTokenKL: [Double]?
    /// ptl at every position [B·T], padding included (TRL masks only when reducing).
    public var perTokenLoss: [Double]
    /// vespo's φ per row.
    public var vespoWeights: [Double]?
    public var statistics: ObjectiveStatistics
    /// ∂loss/∂log π_θ, [B·T].
    public var logProbabilityGradient: [Double]
}

/// GRPO's clipped surrogate (and variants) with optional k3 KL, reduced as `config.lossType` says.
/// `generationTokens` N is Σm over the whole generation batch (dapo/cispo/vespo's normaliser);
/// `accumulationSteps` (gas), `stepsPerGeneration` (spg) and `processes` (P) as in TRL.
public func grpoLoss(
    config: GRPOConfig, batch: TokenBatch, advantages: [Double], generationTokens: Int,
    accumulationSteps: Int = 1, stepsPerGeneration: Int = 1, processes: Int = 1
) -> GRPOLoss {
    let rows = batch.rows, tokens = batch.tokens, count = rows * tokens
    precondition(advantages.count == rows, "\(advantages.count) advantages for \(rows) rows")
    let m = batch.mask, logp = batch.logProbabilities
    let old = batch.oldLogProbabilities ?? logp
    let epsilonLow = config.epsilonLow, epsilonHigh = config.effectiveEpsilonHigh
    let sequenceLevel = config.importanceSamplingLevel == .sequence
    let lengths = (0..<rows).map { batch.length($0) }

    // ρ (uncapped) per token, or per row broadcast to tokens.
    var ratio = [Double](repeating: 0, count: count)
    var rowRatio = [Double](repeating: 0, count: rows)
    for i in 0..<rows {
        if sequenceLevel {
            var s = 0.0
            for t in 0..<tokens { s += m[i * tokens + t] * (logp[i * tokens + t] - old[i * tokens + t]) }
            rowRatio[i] = exp(s / max(lengths[i], 1))
            for t in 0..<tokens { ratio[i * tokens + t] = rowRatio[i] }
        } else {
            for t in 0..<tokens { ratio[i * tokens + t] = exp(logp[i * tokens + t] - old[i * tokens + t]) }
        }
    }

    // Reduction weight per position (loss = Σ m·ptl·w).
    let gas = Double(accumulationSteps)
    let totalMask = m.reduce(0, +)
    func weight(_ i: Int) -> Double {
        switch config.lossType {
        case .grpo, .sapo: return 1 / (Double(rows) * max(lengths[i], 1) * gas)
        case .bnpo: return 1 / (max(totalMask, 1) * gas)
        case .drGRPO: return 1 / (Double(rows) * Double(config.maxCompletionLength) * gas)
        case .dapo, .cispo, .vespo:
            return 1 / (max(Double(generationTokens), 1) / Double(processes) * gas / Double(stepsPerGeneration))
        case .luspo: return 1 / (Double(rows) * gas)
        }
    }

    // vespo's detached sequence weights φ.
    var phi: [Double]?
    if config.lossType == .vespo {
        phi = (0..<rows).map { i in
            var s = 0.0
            for t in 0..<tokens {
                s += m[i * tokens + t] * min(max(logp[i * tokens + t] - old[i * tokens + t], -20), 20)
            }
            let logWeight = min(max(s, log(1e-8)), 20)
            let positive = advantages[i] >= 0
            let k = positive ? config.vespoKPositive : config.vespoKNegative
            let lambda = max(positive ? config.vespoLambdaPositive : config.vespoLambdaNegative, 1e-4)
            return exp(lambda + k * logWeight - lambda * exp(logWeight))
        }
    }

    var perTokenLoss = [Double](repeating: 0, count: count)
    var perTokenKL: [Double]? = config.beta != 0 ? [Double](repeating: 0, count: count) : nil
    var loggedRatio = ratio
    var directGradient = [Double](repeating: 0, count: count)  // ∂loss/∂logp through explicit log π terms
    var ratioGradient = [Double](repeating: 0, count: count)  // ∂loss/∂ρ at each position
    for i in 0..<rows {
        let a = advantages[i]
        for t in 0..<tokens {
            let k = i * tokens + t
            let c = ratio[k]
            let w = m[k] * weight(i)
            var ptl: Double
            switch config.lossType {
            case .grpo, .bnpo, .drGRPO, .dapo, .luspo:
                let clipped = min(max(c, 1 - epsilonLow), 1 + epsilonHigh)
                let capped = config.delta.map { min(c, $0) } ?? c
                loggedRatio[k] = capped
                let unclippedTerm = capped * a, clippedTerm = clipped * a
                ptl = -min(unclippedTerm, clippedTerm)
                let cappedSlope = config.delta.map { c < $0 ? 1.0 : 0.0 } ?? 1
                let clippedSlope = (c > 1 - epsilonLow && c < 1 + epsilonHigh) ? 1.0 : 0.0
                let slope: Double
                if unclippedTerm < clippedTerm {
                    slope = cappedSlope
                } else if unclippedTerm > clippedTerm {
                    slope = clippedSlope
                } else {
                    slope = 0.5 * (cappedSlope + clippedSlope)
                }
                ratioGradient[k] += w * -a * slope
            case .cispo:
                let cappedWeight = min(c, epsilonHigh)
                ptl = -cappedWeight * a * logp[k]
                directGradient[k] += w * -cappedWeight * a
            case .sapo:
                let tau = a > 0 ? config.sapoTemperaturePositive : config.sapoTemperatureNegative
                let s = sigmoid(tau * (c - 1))
                ptl = -(4 / tau) * s * a
                ratioGradient[k] += w * -4 * s * (1 - s) * a
            case .vespo:
                ptl = -phi![i] * a * logp[k]
                directGradient[k] += w * -phi![i] * a
            }
            if config.beta != 0 {
                let reference = batch.referenceLogProbabilities![k]
                let k3 = exp(reference - logp[k]) - (reference - logp[k]) - 1
                let dk3 = -exp(reference - logp[k]) + 1
                let kl = config.useBiasCorrectionKL ? k3 * c : k3
                perTokenKL![k] = kl
                ptl += config.beta * kl
                directGradient[k] += w * config.beta * (config.useBiasCorrectionKL ? dk3 * c : dk3)
                if config.useBiasCorrectionKL { ratioGradient[k] += w * config.beta * k3 }
            }
            perTokenLoss[k] = ptl
        }
    }

    // Loss and the chain ρ → log π.
    var loss = 0.0
    for i in 0..<rows { for t in 0..<tokens { let k = i * tokens + t; loss += m[k] * perTokenLoss[k] * weight(i) } }
    var gradient = directGradient
    for i in 0..<rows {
        if sequenceLevel {
            var total = 0.0
            for t in 0..<tokens { total += ratioGradient[i * tokens + t] }
            for t in 0..<tokens {
                gradient[i * tokens + t] += total * rowRatio[i] * m[i * tokens + t] / max(lengths[i], 1)
            }
        } else {
            for t in 0..<tokens { let k = i * tokens + t; gradient[k] += ratioGradient[k] * ratio[k] }
        }
    }

    // TRL's logged metrics.
    var statistics = ObjectiveStatistics()
    if let perTokenKL { statistics["kl"] = maskedMean(perTokenKL, mask: m) }
    switch config.lossType {
    case .cispo:
        let clippedIndicator = (0..<count).map { ratio[$0] > epsilonHigh && advantages[$0 / tokens] > 0 ? 1.0 : 0.0 }
        statistics["cispo_clip_ratio"] = Double(Float(maskedMean(clippedIndicator, mask: m)))
    case .vespo:
        statistics["vespo/phi_seq_mean"] = mean(phi!)
    case .sapo:
        break
    default:
        let low = (0..<count).map { loggedRatio[$0] < 1 - epsilonLow && advantages[$0 / tokens] < 0 ? 1.0 : 0.0 }
        let high = (0..<count).map { loggedRatio[$0] > 1 + epsilonHigh && advantages[$0 / tokens] > 0 ? 1.0 : 0.0 }
        let region = (0..<count).map { max(low[$0], high[$0]) }
        if sequenceLevel {
            let rowLow = (0..<rows).map { low[$0 * tokens] }, rowHigh = (0..<rows).map { high[$0 * tokens] }
            statistics["clip_ratio/low_mean"] = Double(Float(mean(rowLow)))
            statistics["clip_ratio/high_mean"] = Double(Float(mean(rowHigh)))
            statistics["clip_ratio/region_mean"] = Double(Float(mean((0..<rows).map { region[$0 * tokens] })))
            statistics["clip_ratio/low_min"] = Double(Float(rowLow.min() ?? 0))
            statistics["clip_ratio/high_max"] = Double(Float(rowHigh.max() ?? 0))
        } else {
            statistics["clip_ratio/low_mean"] = Double(Float(maskedMean(low, mask: m)))
            statistics["clip_ratio/high_mean"] = Double(Float(maskedMean(high, mask: m)))
            statistics["clip_ratio/region_mean"] = Double(Float(maskedMean(region, mask: m)))
            // Extremes over rows of each row's masked mean.
            func rowMeans(_ x: [Double]) -> [Double] {
                (0..<rows).map { i in
                    maskedMean(
                        Array(x[(i * tokens)..<((i + 1) * tokens)]), mask: Array(m[(i * tokens)..<((i + 1) * tokens)]))
                }
            }
            statistics["clip_ratio/low_min"] = Double(Float(rowMeans(low).min() ?? 0))
            statistics["clip_ratio/high_max"] = Double(Float(rowMeans(high).max() ?? 0))
        }
    }
    return GRPOLoss(
        loss: loss,
        importanceRatio: sequenceLevel
            ? (config.delta.map { d in rowRatio.map { min($0, d) } } ?? rowRatio) : loggedRatio,
        perTokenKL: perTokenKL, perTokenLoss: perTokenLoss, vespoWeights: phi, statistics: statistics,
        logProbabilityGradient: gradient)
}
