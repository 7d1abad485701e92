import Foundation

/// The DPO loss family (Rafailov et al. 2023; IPO: Azar et al. 2023; robust: Chowdhury et al. 2024),
/// as TRL 1.16's `DPOTrainer._compute_loss`.
public enum DPOLossType: String, Codable, Sendable, CaseIterable {
    /// −log σ(βΔ).
    case sigmoid
    /// (c/n_c − r/n_r − 1/(2β))², each log-ratio averaged over its own completion tokens.
    case ipo
    /// max(0, 1 − βΔ).
    case hinge
    /// [−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)] / (1 − 2ε), ε = label smoothing.
    case robust
}

public struct DPOConfig: Codable, Sendable, Equatable {
    /// β: inverse temperature of the implicit reward (TRL default 0.1).
    public var beta = 0.1
    public var lossType = DPOLossType.sigmoid
    /// ε: assumed probability that a preference label is flipped (robust only; TRL ignores it for sigmoid).
    public var labelSmoothing = 0.0

    public init(beta: Double = 0.1, lossType: DPOLossType = .sigmoid, labelSmoothing: Double = 0) {
        self.beta = beta
        self.lossType = lossType
        self.labelSmoothing = labelSmoothing
    }

    public func validate() throws {
        guard beta > 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) must be > 0", fix: "use e.g. --beta 0.1")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 0.5 else {
            throw ObjectiveConfigurationError(
                "label smoothing ε = \(labelSmoothing) must be in [0, 0.5)", fix: "use e.g. 0.1")
        }
    }
}

/// Sequence log-probabilities of a batch of B preference pairs (completion tokens only).
public struct PreferenceLogProbabilities: Sendable {
    public var policyChosen: [Double]
    public var policyRejected: [Double]
    public var referenceChosen: [Double]
    public var referenceRejected: [Double]
    /// Completion token counts (used by IPO).
    public var chosenTokens: [Double]
    public var rejectedTokens: [Double]

    public init(
        policyChosen: [Double], policyRejected: [Double], referenceChosen: [Double], referenceRejected: [Double],
        chosenTokens: [Double], rejectedTokens: [Double]
    ) {
        self.policyChosen = policyChosen
        self.policyRejected = policyRejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
    }
}

public struct DPOLoss: Sendable {
    public var loss: Double
    public var perPairLoss: [Double]
    /// β·(π_c − ρ_c) and β·(π_r − ρ_r), detached, not length-normalised.
    public var chosenRewards: [Double]
    public var rejectedRewards: [Double]
    public var statistics: ObjectiveStatistics
    /// ∂loss/∂π_c and ∂loss/∂π_r per pair.
    public var chosenGradient: [Double]
    public var rejectedGradient: [Double]
}

/// Mean over pairs of the per-pair DPO loss, with TRL's logged statistics.
public func dpoLoss(config: DPOConfig, _ x: PreferenceLogProbabilities) -> DPOLoss {
    let count = x.policyChosen.count
    let n = Double(max(count, 1))
    let beta = config.beta, epsilon = config.labelSmoothing
    var perPair = [Double](repeating: 0, count: count)
    var chosenGradient = [Double](repeating: 0, count: count)
    var rejectedGradient = [Double](repeating: 0, count: count)
    for i in 0..<count {
        let c = x.policyChosen[i] - x.referenceChosen[i]
        let r = x.policyRejected[i] - x.referenceRejected[i]
        let z = beta * (c - r)
        var dLossDDelta = 0.0  // ∂ℓ/∂Δ with Δ = c − r
        switch config.lossType {
        case .sigmoid:
            perPair[i] = -logSigmoid(z)
            dLossDDelta = -beta * sigmoid(-z)
        case .hinge:
            perPair[i] = max(0, 1 - z)
            dLossDDelta = 1 - z > 0 ? -beta : 0
        case .robust:
            perPair[i] = (-(1 - epsilon) * logSigmoid(z) + epsilon * logSigmoid(-z)) / (1 - 2 * epsilon)
            dLossDDelta = (-(1 - epsilon) * beta * sigmoid(-z) - epsilon * beta * sigmoid(z)) / (1 - 2 * epsilon)
        case .ipo:
            let nc = max(x.chosenTokens[i], 1), nr = max(x.rejectedTokens[i], 1)
            let inner = c / nc - r / nr - 1 / (2 * beta)
            perPair[i] = inner * inner
            chosenGradient[i] = 2 * inner / nc / n
            rejectedGradient[i] = -2 * inner / nr / n
        }
        if config.lossType != .ipo {
            chosenGradient[i] = dLossDDelta / n
            rejectedGradient[i] = -dLossDDelta / n
        }
    }
    let chosenRewards = (0..<count).map { beta * (x.policyChosen[$0] - x.referenceChosen[$0]) }
    let rejectedRewards = (0..<count).map { beta * (x.policyRejected[$0] - x.referenceRejected[$0]) }
    var statistics = ObjectiveStatistics()
    statistics["rewards/chosen"] = mean(chosenRewards)
    statistics["rewards/rejected"] = mean(rejectedRewards)
    statistics["rewards/margins"] = mean(zip(chosenRewards, rejectedRewards).map { $0 - $1 })
    statistics["rewards/accuracies"] = mean(zip(chosenRewards, rejectedRewards).map { $0 > $1 ? 1 : 0 })
    statistics["logps/chosen"] = mean(x.policyChosen)
    statistics["logps/rejected"] = mean(x.policyRejected)
    return DPOLoss(
        loss: mean(perPair), perPairLoss: perPair, chosenRewards: chosenRewards, rejectedRewards: rejectedRewards,
        statistics: statistics, chosenGradient: chosenGradient, rejectedGradient: rejectedGradient)
}

/// Bradley–Terry reward-model loss (Bradley & Terry 1952; Ouyang et al. 2022):
/// L = −mean log σ(r_c − r_r − margin), with accuracy = mean 1[r_c > r_r].
public func bradleyTerryLoss(
    chosenRewards: [Double], rejectedRewards: [Double], margin: Double = 0
) -> (loss: Double, accuracy: Double, chosenGradient: [Double], rejectedGradient: [Double]) {
    let count = chosenRewards.count
    let n = Double(max(count, 1))
    var loss = 0.0
    var chosenGradient = [Double](repeating: 0, count: count), rejectedGradient = chosenGradient
    for i in 0..<count {
        let z = chosenRewards[i] - rejectedRewards[i] - margin
        loss -= logSigmoid(z) / n
        chosenGradient[i] = -sigmoid(-z) / n
        rejectedGradient[i] = sigmoid(-z) / n
    }
    let accuracy = mean((0..<count).map { chosenRewards[$0] > rejectedRewards[$0] ? 1 : 0 })
    return (loss, accuracy, chosenGradient, rejectedGradient)
}
