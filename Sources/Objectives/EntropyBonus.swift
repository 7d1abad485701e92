import Foundation

// Entropy regularisation of a token policy: a bonus c·H̄ subtracted from the loss (Williams & Peng 1991;
// Mnih et al. 2016, A3C's β·H; PPO's c₂·S[π]), where H̄ is the token mean of the per-position entropy
// H_t = −Σ_v π(v | x_<t) log π(v | x_<t) over the completion tokens (verl's `entropy_coeff` with its
// "token-mean" aggregation). An adaptive variant steers c towards a target entropy H* (the dual update
// of SAC's temperature, Haarnoja et al. 2018 §5: c rises while H̄ < H*, falls while H̄ > H*).

/// Settings of the entropy bonus and its controller.
public struct EntropyBonusConfig: Codable, Sendable, Equatable {
    /// c: the bonus's weight at the first step (`--entropy-coef`; 0 with no target: no bonus).
    public var coefficient = 0.0
    /// H*: the per-token entropy (nats) the controller steers towards; nil keeps c fixed.
    public var targetEntropy: Double?
    /// η: the controller's step, c ← clamp(c + η·(H* − H̄), 0, c_max) after every update.
    public var adaptationRate = 0.01
    /// c_max: the controller's ceiling.
    public var maximumCoefficient = 0.1

    public init(coefficient: Double = 0, targetEntropy: Double? = nil, adaptationRate: Double = 0.01,
                maximumCoefficient: Double = 0.1) {
        self.coefficient = coefficient
        self.targetEntropy = targetEntropy
        self.adaptationRate = adaptationRate
        self.maximumCoefficient = maximumCoefficient
    }

    /// Whether the bonus can ever be non-zero (a fixed c > 0, or a controller).
    public var isActive: Bool { coefficient > 0 || targetEntropy != nil }

    public func validate() throws {
        guard coefficient >= 0 && coefficient.isFinite else {
            throw ObjectiveConfigurationError("entropy coefficient c = \(coefficient) is negative",
                                              fix: "use --entropy-coef ≥ 0 (0: no bonus)")
        }
        if let targetEntropy, !(targetEntropy > 0 && targetEntropy.isFinite) {
            throw ObjectiveConfigurationError("target entropy H* = \(targetEntropy) must be > 0",
                                              fix: "use e.g. --target-entropy 0.3 (nats per token)")
        }
        guard adaptationRate > 0 && adaptationRate.isFinite else {
            throw ObjectiveConfigurationError("entropy controller rate η = \(adaptationRate) must be > 0",
                                              fix: "use e.g. --entropy-coef-lr 0.01")
        }
        guard maximumCoefficient >= coefficient && maximumCoefficient.isFinite else {
            throw ObjectiveConfigurationError(
                "entropy coefficient ceiling \(maximumCoefficient) is below the starting c = \(coefficient)",
                fix: "raise --max-entropy-coef or lower --entropy-coef")
        }
    }
}

/// The entropy bonus of one batch: its loss term, the masked mean entropy, and ∂term/∂H_t.
public struct EntropyBonus: Sendable {
    /// −c·H̄ (added to the policy loss).
    public var loss: Double
    /// H̄ = Σ m·H / Σ m: the per-token entropy of the completions (TRL's logged `entropy`).
    public var meanEntropy: Double
    /// ∂loss/∂H_t = −c·m_t / Σ m, [B·T].
    public var entropyGradient: [Double]

    public init(loss: Double, meanEntropy: Double, entropyGradient: [Double]) {
        self.loss = loss
        self.meanEntropy = meanEntropy
        self.entropyGradient = entropyGradient
    }
}

/// The bonus −c·Σ_t m_t H_t / Σ_t m_t over the completion tokens of a batch (`entropies` and `mask` [B·T]).
public func entropyBonus(coefficient: Double, entropies: [Double], mask: [Double]) -> EntropyBonus {
    precondition(entropies.count == mask.count, "\(entropies.count) entropies for \(mask.count) mask entries")
    let tokens = max(mask.reduce(0, +), 1)
    var total = 0.0
    for k in entropies.indices { total += mask[k] * entropies[k] }
    let meanEntropy = total / tokens
    return EntropyBonus(loss: -coefficient * meanEntropy, meanEntropy: meanEntropy,
                        entropyGradient: mask.map { -coefficient * $0 / tokens })
}

/// The controller's next coefficient: c + η·(H* − H̄), clamped to [0, c_max]; c itself without a target.
public func adaptedEntropyCoefficient(_ coefficient: Double, measuredEntropy: Double,
                                      config: EntropyBonusConfig) -> Double {
    guard let target = config.targetEntropy, measuredEntropy.isFinite else { return coefficient }
    return min(max(coefficient + config.adaptationRate * (target - measuredEntropy), 0), config.maximumCoefficient)
}
