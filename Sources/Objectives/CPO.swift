import Foundation

/// Contrastive Preference Optimization (Xu et al. 2024) and SimPO (Meng et al. 2024): reference-free
/// preference losses, as TRL 1.16's `trl.experimental.cpo.CPOTrainer` (`cpo_loss` and
/// `get_batch_loss_metrics`). With x = π̄_c − π̄_r (sequence log-probs; averaged over each completion's
/// tokens for ipo and simpo, as TRL's `average_log_prob`):
/// - sigmoid: −(1−ε)·log σ(βx) − ε·log σ(−βx)   (CPO's Eq. 3 with label smoothing ε)
/// - hinge: max(0, 1 − βx);   ipo: (x − 1/(2β))²
/// - simpo: sigmoid on x − γ/β, i.e. SimPO's −log σ(β·π̄_c − β·π̄_r − γ) with the γ margin.
/// The loss adds α·NLL of the chosen completions (CPO's behaviour-cloning term, TRL `cpo_alpha`, mean over
/// their tokens). SimPO proper is `simpo` with α = 0 (TRL's recipe); α > 0 is CPO-SimPO.
public enum CPOLossType: String, Codable, Sendable, CaseIterable {
    case sigmoid, hinge, ipo, simpo

    /// TRL averages the sequence log-probs over the completion's tokens for these.
    public var averagesLogProbabilities: Bool { self == .ipo || self == .simpo }
}

/// TRL's `CPOConfig` (AlphaPO's α ≠ 0 reward shaping is not supported).
public struct CPOConfig: Codable, Sendable, Equatable {
    /// β, the temperature of the implicit reward β·π̄ (TRL default 0.1; SimPO's paper uses 2–2.5).
    public var beta = 0.1
    public var lossType = CPOLossType.sigmoid
    /// ε, the label smoothing of the sigmoid and simpo losses (TRL default 0).
    public var labelSmoothing = 0.0
    /// γ, SimPO's target reward margin (TRL `simpo_gamma`, default 0.5).
    public var simpoGamma = 0.5
    /// α, the weight of the chosen completions' NLL (TRL `cpo_alpha`, default 1).
    public var cpoAlpha = 1.0

    public init(
        beta: Double = 0.1, lossType: CPOLossType = .sigmoid, labelSmoothing: Double = 0, simpoGamma: Double = 0.5,
        cpoAlpha: Double = 1
    ) {
        self.beta = beta
        self.lossType = lossType
        self.labelSmoothing = labelSmoothing
        self.simpoGamma = simpoGamma
        self.cpoAlpha = cpoAlpha
    }

    /// SimPO as TRL runs it: `simpo` without the NLL term.
    public static func simPO(beta: Double = 2, gamma: Double = 0.5) -> CPOConfig {
        CPOConfig(beta: beta, lossType: .simpo, simpoGamma: gamma, cpoAlpha: 0)
    }

    public func validate() throws {
        guard beta > 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) must be > 0", fix: "use e.g. --beta 0.1")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 0.5 else {
            throw ObjectiveConfigurationError(
                "label smoothing ε = \(labelSmoothing) must be in [0, 0.5)", fix: "use e.g. 0.1")
        }
        guard simpoGamma.isFinite && cpoAlpha >= 0 && cpoAlpha.isFinite else {
            throw ObjectiveConfigurationError(
                "γ = \(simpoGamma), α = \(cpoAlpha): γ must be finite and α ≥ 0", fix: "use e.g. γ 0.5, α 1")
        }
    }
}

/// The policy's sequence log-probs of a batch of B pairs (completion tokens only, summed) and their token
/// counts: the inputs of the reference-free losses (CPO, SimPO, ORPO).
public struct PolicyPreferenceLogProbabilities: Sendable {
    public var chosen: [Double]
    public var rejected: [Double]
    public var chosenTokens: [Double]
    public var rejectedTokens: [Double]

    public init(chosen: [Double], rejected: [Double], chosenTokens: [Double], rejectedTokens: [Double]) {
        self.chosen = chosen
        self.rejected = rejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
    }
}

/// A reference-free preference loss with TRL's statistics and ∂loss/∂(summed sequence log-prob).
public struct ReferenceFreePreferenceLoss: Sendable {
    public var loss: Double
    public var perPairLoss: [Double]
    public var statistics: ObjectiveStatistics
    public var chosenGradient: [Double]
    public var rejectedGradient: [Double]
    /// ∂loss/∂(log-prob of each prompt token of a chosen row): nonzero only for ORPO, whose NLL covers the
    /// prompt too. The same for every such token.
    public var chosenPromptTokenGradient = 0.0
}

/// CPOTrainer's loss: mean over pairs of ℓ(x) + α·NLL(chosen).
public func cpoLoss(config: CPOConfig, _ x: PolicyPreferenceLogProbabilities) -> ReferenceFreePreferenceLoss {
    let count = x.chosen.count
    let n = Double(max(count, 1))
    let beta = config.beta, epsilon = config.labelSmoothing
    let average = config.lossType.averagesLogProbabilities
    let chosen = (0..<count).map { average ? x.chosen[$0] / max(x.chosenTokens[$0], 1) : x.chosen[$0] }
    let rejected = (0..<count).map { average ? x.rejected[$0] / max(x.rejectedTokens[$0], 1) : x.rejected[$0] }
    var perPair = [Double](repeating: 0, count: count)
    var chosenGradient = perPair, rejectedGradient = perPair
    for i in 0..<count {
        var logits = chosen[i] - rejected[i]
        var dLossDLogits = 0.0
        switch config.lossType {
        case .sigmoid, .simpo:
            if config.lossType == .simpo { logits -= config.simpoGamma / beta }
            let z = beta * logits
            perPair[i] = -logSigmoid(z) * (1 - epsilon) - logSigmoid(-z) * epsilon
            dLossDLogits = -beta * sigmoid(-z) * (1 - epsilon) + beta * sigmoid(z) * epsilon
        case .hinge:
            perPair[i] = max(0, 1 - beta * logits)
            dLossDLogits = 1 - beta * logits > 0 ? -beta : 0
        case .ipo:
            let inner = logits - 1 / (2 * beta)
            perPair[i] = inner * inner
            dLossDLogits = 2 * inner
        }
        chosenGradient[i] = dLossDLogits / n / (average ? max(x.chosenTokens[i], 1) : 1)
        rejectedGradient[i] = -dLossDLogits / n / (average ? max(x.rejectedTokens[i], 1) : 1)
    }
    // TRL computes the NLL only when α ≠ 0 (and logs 0 otherwise).
    var nll = 0.0
    if config.cpoAlpha != 0 {
        let tokens = max(x.chosenTokens.reduce(0, +), 1)
        nll = -x.chosen.reduce(0, +) / tokens
        for i in 0..<count { chosenGradient[i] += -config.cpoAlpha / tokens }
    }
    let chosenRewards = chosen.map { beta * $0 }, rejectedRewards = rejected.map { beta * $0 }
    var statistics = preferenceRewardStatistics(chosenRewards: chosenRewards, rejectedRewards: rejectedRewards)
    statistics["logps/chosen"] = mean(chosen)
    statistics["logps/rejected"] = mean(rejected)
    statistics["nll_loss"] = nll
    return ReferenceFreePreferenceLoss(
        loss: mean(perPair) + config.cpoAlpha * nll, perPairLoss: perPair, statistics: statistics,
        chosenGradient: chosenGradient, rejectedGradient: rejectedGradient)
}

/// TRL's `rewards/chosen`, `rewards/rejected`, `rewards/margins` and `rewards/accuracies` (share of pairs
/// with a chosen reward strictly above the rejected one).
func preferenceRewardStatistics(chosenRewards: [Double], rejectedRewards: [Double]) -> ObjectiveStatistics {
    var statistics = ObjectiveStatistics()
    statistics["rewards/chosen"] = mean(chosenRewards)
    statistics["rewards/rejected"] = mean(rejectedRewards)
    statistics["rewards/margins"] = mean(zip(chosenRewards, rejectedRewards).map { $0 - $1 })
    statistics["rewards/accuracies"] = mean(zip(chosenRewards, rejectedRewards).map { $0 > $1 ? 1 : 0 })
    return statistics
}
