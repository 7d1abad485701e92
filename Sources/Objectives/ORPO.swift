import Foundation

/// ORPO, Odds Ratio Preference Optimization (Hong et al. 2024), as TRL 1.16's
/// `trl.experimental.orpo.ORPOTrainer` (`odds_ratio_loss` and `get_batch_loss_metrics`):
///
///   L = NLL(chosen) − β · mean log σ(log odds(π̄_c) − log odds(π̄_r)),
///   log odds(p̄) = p̄ − log(1 − e^p̄)
///
/// with π̄ the sequence log-prob averaged over the completion's tokens. Reference-free. As in TRL, the NLL
/// is the mean over every predicted token of the chosen sequences, prompt included (TRL's comment: "orpo
/// chosen nll loss is computed over the full prompt and response"); TRL evaluates the odds ratio in
/// float32, PolicyLab in Double.
public struct ORPOConfig: Codable, Sendable, Equatable {
    /// β, the weight of the odds-ratio term (λ in the paper; TRL default 0.1).
    public var beta = 0.1

    public init(beta: Double = 0.1) { self.beta = beta }

    public func validate() throws {
        guard beta > 0 && beta.isFinite else {
            throw ObjectiveConfigurationError("β = \(beta) must be > 0", fix: "use e.g. --beta 0.1")
        }
    }
}

/// log(1 − e^x) for x < 0, stable on both sides of −ln 2 (TRL's `log1mexp`).
func log1mexp(_ x: Double) -> Double {
    x < -0.6931471805599453 ? Foundation.log1p(-Foundation.exp(x)) : Foundation.log(-Foundation.expm1(x))
}

/// ORPO's loss. `chosenPromptLogProbabilities` and `chosenPromptTokens`: the summed log-probs and count of the
/// prompt tokens that the NLL covers (every prompt token after the first, which nothing predicts).
public func orpoLoss(
    config: ORPOConfig, _ x: PolicyPreferenceLogProbabilities, chosenPromptLogProbabilities: [Double],
    chosenPromptTokens: [Double]
) -> ReferenceFreePreferenceLoss {
    let count = x.chosen.count
    let n = Double(max(count, 1))
    let beta = config.beta
    // A sequence of probability 1 (average log-prob 0) has infinite odds; the cap keeps the gradient finite
    // (TRL would give NaN there).
    let chosen = (0..<count).map { min(x.chosen[$0] / max(x.chosenTokens[$0], 1), -1e-12) }
    let rejected = (0..<count).map { min(x.rejected[$0] / max(x.rejectedTokens[$0], 1), -1e-12) }
    var logOdds = [Double](repeating: 0, count: count), ratio = logOdds
    var chosenGradient = logOdds, rejectedGradient = logOdds
    let allTokens = max(x.chosenTokens.reduce(0, +) + chosenPromptTokens.reduce(0, +), 1)
    let nll = -(x.chosen.reduce(0, +) + chosenPromptLogProbabilities.reduce(0, +)) / allTokens
    for i in 0..<count {
        logOdds[i] = (chosen[i] - rejected[i]) - (log1mexp(chosen[i]) - log1mexp(rejected[i]))
        ratio[i] = logSigmoid(logOdds[i])
        // ∂/∂p̄ of log odds(p̄) is 1/(1 − e^p̄); the loss is −β·mean(ratio).
        let dLossDLogOdds = -beta * sigmoid(-logOdds[i]) / n
        chosenGradient[i] = dLossDLogOdds / -Foundation.expm1(chosen[i]) / max(x.chosenTokens[i], 1)
            - 1 / allTokens
        rejectedGradient[i] = -dLossDLogOdds / -Foundation.expm1(rejected[i]) / max(x.rejectedTokens[i], 1)
    }
    let chosenRewards = chosen.map { beta * $0 }, rejectedRewards = rejected.map { beta * $0 }
    var statistics = preferenceRewardStatistics(chosenRewards: chosenRewards, rejectedRewards: rejectedRewards)
    statistics["logps/chosen"] = mean(chosen)
    statistics["logps/rejected"] = mean(rejected)
    statistics["nll_loss"] = nll
    statistics["log_odds_ratio"] = mean(ratio)
    statistics["log_odds_chosen"] = mean(logOdds)
    return ReferenceFreePreferenceLoss(
        loss: nll - beta * mean(ratio), perPairLoss: ratio.map { -beta * $0 }, statistics: statistics,
        chosenGradient: chosenGradient, rejectedGradient: rejectedGradient, chosenPromptTokenGradient: -1 / allTokens)
}
