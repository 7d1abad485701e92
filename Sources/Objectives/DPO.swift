import Foundation

/// The DPO loss family (Rafailov et al. 2023; IPO: Azar et al. 2023; robust: Chowdhury et al. 2024),
/// as TRL 1.16's `DPOTrainer._compute_loss`. TRL's `loss_type` is a list: the loss is Σ_k w_k·mean ℓ_k
/// over the listed types with `loss_weights` w (default all 1), so DPO + SFT (RPO) is `[sigmoid, sft]`.
public enum DPOLossType: String, Codable, Sendable, CaseIterable {
    /// −log σ(βΔ).
    case sigmoid
    /// (c/n_c − r/n_r − 1/(2β))², each log-ratio averaged over its own completion tokens.
    case ipo
    /// max(0, 1 − βΔ).
    case hinge
    /// [−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)] / (1 − 2ε), ε = label smoothing.
    case robust
    /// −log σ(β·(c/n_c − r/n_r)): sigmoid on the log-ratios averaged over each completion's tokens.
    case sigmoidNorm = "sigmoid_norm"
    /// The NLL of the chosen completions, mean over all their tokens (RPO's term; Pang et al. 2024).
    case sft
}

public struct DPOConfig: Codable, Sendable, Equatable {
    /// β: inverse temperature of the implicit reward (TRL default 0.1).
    public var beta = 0.1
    /// TRL's `loss_type` list (default `[sigmoid]`).
    public var lossTypes: [DPOLossType] = [.sigmoid]
    /// TRL's `loss_weights`, one per loss type (nil: all 1).
    public var lossWeights: [Double]?
    /// ε: assumed probability that a preference label is flipped (robust only; TRL ignores it for sigmoid).
    public var labelSmoothing = 0.0

    /// The first loss type; setting it makes the list that one type.
    public var lossType: DPOLossType {
        get { lossTypes.first ?? .sigmoid }
        set { lossTypes = [newValue]; lossWeights = nil }
    }

    public init(beta: Double = 0.1, lossType: DPOLossType = .sigmoid, labelSmoothing: Double = 0) {
        self.beta = beta
        self.lossTypes = [lossType]
        self.labelSmoothing = labelSmoothing
    }

    public init(
        beta: Double = 0.1, lossTypes: [DPOLossType], lossWeights: [Double]? = nil, labelSmoothing: Double = 0
    ) {
        self.beta = beta
        self.lossTypes = lossTypes
        self.lossWeights = lossWeights
        self.labelSmoothing = labelSmoothing
    }

    /// w_k of each loss type.
    public var weights: [Double] { lossWeights ?? lossTypes.map { _ in 1 } }

    public func validate() throws {
        guard beta > 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) must be > 0", fix: "use e.g. --beta 0.1")
        }
        guard !lossTypes.isEmpty else {
            throw ObjectiveConfigurationError("the loss type list is empty", fix: "give at least one, e.g. sigmoid")
        }
        if let lossWeights {
            guard lossWeights.count == lossTypes.count else {
                throw ObjectiveConfigurationError(
                    "\(lossWeights.count) loss weights for \(lossTypes.count) loss types",
                    fix: "give one weight per loss type")
            }
            guard lossWeights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw ObjectiveConfigurationError("a loss weight is negative or not finite", fix: "use weights ≥ 0")
            }
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
    /// Completion token counts (used by IPO, sigmoid_norm and sft).
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

/// Σ_k w_k · (mean over pairs of the per-pair loss of type k), with TRL's logged statistics. `perPairLoss`
/// is Σ_k w_k ℓ_k per pair (sft's batch NLL counted in every pair, as TRL expands it).
public func dpoLoss(config: DPOConfig, _ x: PreferenceLogProbabilities) -> DPOLoss {
    let count = x.policyChosen.count
    let n = Double(max(count, 1))
    let beta = config.beta, epsilon = config.labelSmoothing
    var perPair = [Double](repeating: 0, count: count)
    var chosenGradient = [Double](repeating: 0, count: count)
    var rejectedGradient = [Double](repeating: 0, count: count)
    var statistics = ObjectiveStatistics()
    for (lossType, weight) in zip(config.lossTypes, config.weights) {
        if lossType == .sft {
            // −Σ_i c_i / Σ_i n_i: the mean NLL over every chosen completion token of the batch.
            let tokens = max(x.chosenTokens.reduce(0, +), 1)
            let nll = -x.policyChosen.reduce(0, +) / tokens
            for i in 0..<count {
                perPair[i] += weight * nll
                chosenGradient[i] += -weight / tokens
            }
            statistics["nll_loss"] = nll
            continue
        }
        for i in 0..<count {
            let c = x.policyChosen[i] - x.referenceChosen[i]
            let r = x.policyRejected[i] - x.referenceRejected[i]
            let z = beta * (c - r)
            var loss = 0.0
            var dLossDC = 0.0, dLossDR = 0.0  // ∂ℓ/∂c and ∂ℓ/∂r of this pair
            switch lossType {
            case .sigmoid:
                loss = -logSigmoid(z)
                dLossDC = -beta * sigmoid(-z)
                dLossDR = -dLossDC
            case .hinge:
                loss = max(0, 1 - z)
                dLossDC = 1 - z > 0 ? -beta : 0
                dLossDR = -dLossDC
            case .robust:
                loss = (-(1 - epsilon) * logSigmoid(z) + epsilon * logSigmoid(-z)) / (1 - 2 * epsilon)
                dLossDC = (-(1 - epsilon) * beta * sigmoid(-z) - epsilon * beta * sigmoid(z)) / (1 - 2 * epsilon)
                dLossDR = -dLossDC
            case .ipo:
                let nc = max(x.chosenTokens[i], 1), nr = max(x.rejectedTokens[i], 1)
                let inner = c / nc - r / nr - 1 / (2 * beta)
                loss = inner * inner
                dLossDC = 2 * inner / nc
                dLossDR = -2 * inner / nr
            case .sigmoidNorm:
                let nc = max(x.chosenTokens[i], 1), nr = max(x.rejectedTokens[i], 1)
                let h = beta * (c / nc - r / nr)
                loss = -logSigmoid(h)
                dLossDC = -beta * sigmoid(-h) / nc
                dLossDR = beta * sigmoid(-h) / nr
            case .sft:
                preconditionFailure("sft is handled above")
            }
            perPair[i] += weight * loss
            chosenGradient[i] += weight * dLossDC / n
            rejectedGradient[i] += weight * dLossDR / n
        }
    }
    let chosenRewards = (0..<count).map { beta * (x.policyChosen[$0] - x.referenceChosen[$0]) }
    let rejectedRewards = (0..<count).map { beta * (x.policyRejected[$0] - x.referenceRejected[$0]) }
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
