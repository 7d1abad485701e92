import Foundation

/// KTO, Kahneman–Tversky Optimization (Ethayarajh et al. 2024), on unpaired completions, as TRL 1.16's
/// `KTOTrainer._compute_loss`. With the log-ratio ρ = log π(y|x) − log π_ref(y|x) of each row and the
/// reference point z₀ = max(0, mean over the batch of the mismatched pairs' log-ratios) (Eq. 7's KL
/// estimate; the mismatched pairs put each prompt with another row's completion, and z₀ carries no
/// gradient, as TRL detaches it):
/// - desirable rows:   λ_D · (1 − σ(β(ρ − z₀)))
/// - undesirable rows: λ_U · (1 − σ(β(z₀ − ρ)))
/// and the loss is the mean over all B rows. `apo_zero_unpaired` (APO, D'Oosterlinck et al. 2024) drops z₀:
/// λ_D(1 − σ(βρ)) and λ_U σ(βρ).
public enum KTOLossType: String, Codable, Sendable, CaseIterable {
    case kto
    case apoZeroUnpaired = "apo_zero_unpaired"
}

/// TRL's `KTOConfig` loss settings.
public struct KTOConfig: Codable, Sendable, Equatable {
    /// β, the implicit reward's inverse temperature (TRL default 0.1).
    public var beta = 0.1
    /// λ_D, the weight of desirable rows (TRL `desirable_weight`, default 1).
    public var desirableWeight = 1.0
    /// λ_U, the weight of undesirable rows (TRL `undesirable_weight`, default 1). TRL advises
    /// λ_D·n_D / (λ_U·n_U) in [1, 4/3] when the classes are unbalanced.
    public var undesirableWeight = 1.0
    public var lossType = KTOLossType.kto

    public init(
        beta: Double = 0.1, desirableWeight: Double = 1, undesirableWeight: Double = 1,
        lossType: KTOLossType = .kto
    ) {
        self.beta = beta
        self.desirableWeight = desirableWeight
        self.undesirableWeight = undesirableWeight
        self.lossType = lossType
    }

    /// Whether the loss needs the mismatched pairs' log-probs (z₀).
    public var usesReferencePoint: Bool { lossType == .kto }

    public func validate() throws {
        guard beta > 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) must be > 0", fix: "use e.g. --beta 0.1")
        }
        guard desirableWeight >= 0 && undesirableWeight >= 0 && desirableWeight.isFinite
            && undesirableWeight.isFinite
        else {
            throw ObjectiveConfigurationError(
                "λ_D = \(desirableWeight), λ_U = \(undesirableWeight) must be ≥ 0", fix: "use e.g. 1 and 1")
        }
    }
}

/// Sequence log-probs (completion tokens, summed) of B unpaired rows and of their B mismatched pairs.
public struct KTOLogProbabilities: Sendable {
    public var policy: [Double]
    public var reference: [Double]
    /// true: desirable.
    public var labels: [Bool]
    /// log π and log π_ref of the mismatched (prompt, other completion) pairs; empty for apo_zero_unpaired.
    public var policyMismatched: [Double]
    public var referenceMismatched: [Double]

    public init(
        policy: [Double], reference: [Double], labels: [Bool], policyMismatched: [Double] = [],
        referenceMismatched: [Double] = []
    ) {
        self.policy = policy
        self.reference = reference
        self.labels = labels
        self.policyMismatched = policyMismatched
        self.referenceMismatched = referenceMismatched
    }
}

public struct KTOLoss: Sendable {
    public var loss: Double
    /// λ·ℓ of each row.
    public var perRowLoss: [Double]
    /// z₀.
    public var referencePoint: Double
    public var statistics: ObjectiveStatistics
    /// ∂loss/∂log π of each row.
    public var gradient: [Double]
}

/// TRL's KTO loss and its statistics (`kl`, `rewards/chosen`, `rewards/rejected`, `rewards/margins`,
/// `logps/chosen`, `logps/rejected`; the per-class ones only when the batch has that class).
public func ktoLoss(config: KTOConfig, _ x: KTOLogProbabilities) -> KTOLoss {
    let count = x.policy.count
    let n = Double(max(count, 1))
    let beta = config.beta
    var referencePoint = 0.0
    if config.usesReferencePoint && !x.policyMismatched.isEmpty {
        referencePoint = max(0, mean(zip(x.policyMismatched, x.referenceMismatched).map { $0 - $1 }))
    }
    var perRow = [Double](repeating: 0, count: count), gradient = perRow
    var chosenRewards: [Double] = [], rejectedRewards: [Double] = []
    var chosenLogps: [Double] = [], rejectedLogps: [Double] = []
    for i in 0..<count {
        let logRatio = x.policy[i] - x.reference[i]
        if x.labels[i] {
            let z = config.lossType == .kto ? beta * (logRatio - referencePoint) : beta * logRatio
            perRow[i] = config.desirableWeight * (1 - sigmoid(z))
            gradient[i] = -config.desirableWeight * beta * sigmoid(z) * sigmoid(-z) / n
            chosenRewards.append(beta * logRatio)
            chosenLogps.append(x.policy[i])
        } else {
            switch config.lossType {
            case .kto:
                let z = beta * (referencePoint - logRatio)
                perRow[i] = config.undesirableWeight * (1 - sigmoid(z))
                gradient[i] = config.undesirableWeight * beta * sigmoid(z) * sigmoid(-z) / n
            case .apoZeroUnpaired:
                let z = beta * logRatio
                perRow[i] = config.undesirableWeight * sigmoid(z)
                gradient[i] = config.undesirableWeight * beta * sigmoid(z) * sigmoid(-z) / n
            }
            rejectedRewards.append(beta * logRatio)
            rejectedLogps.append(x.policy[i])
        }
    }
    var statistics = ObjectiveStatistics()
    statistics["kl"] = referencePoint
    if !chosenRewards.isEmpty {
        statistics["rewards/chosen"] = mean(chosenRewards)
        statistics["logps/chosen"] = mean(chosenLogps)
    }
    if !rejectedRewards.isEmpty {
        statistics["rewards/rejected"] = mean(rejectedRewards)
        statistics["logps/rejected"] = mean(rejectedLogps)
    }
    if !chosenRewards.isEmpty && !rejectedRewards.isEmpty {
        statistics["rewards/margins"] = mean(chosenRewards) - mean(rejectedRewards)
    }
    return KTOLoss(
        loss: mean(perRow), perRowLoss: perRow, referencePoint: referencePoint, statistics: statistics,
        gradient: gradient)
}
