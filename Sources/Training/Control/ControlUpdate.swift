import Autograd
import NN
import Objectives
import Policies

/// The gradient step REINFORCE, A2C and off-policy actor-critic end each update with: the objective's
/// loss L (a `PolicyGradientLoss`, with ∂L/∂log π and ∂L/∂V) minus c₂ times the mean entropy, carried
/// onto the tape by `PolicyGradientTerms.surrogate`, then the global gradient-norm clip and one Adam
/// step. The loss itself is the algorithm's and is built in its trainer's file.
struct ControlUpdate {
    let policy: MLPActorCritic
    let optimizer: AdamW
    /// c₂: the entropy bonus.
    let entropyCoefficient: Double
    /// The global gradient-norm clip.
    let maxGradientNorm: Double

    /// Takes the step for `loss`, computed from `evaluation` (the policy's `evaluate` of the batch, N rows);
    /// returns the loss's statistics with `losses/entropy`. Throws when the total loss is not finite.
    func step(
        loss: PolicyGradientLoss, evaluation: (logProbabilities: Tensor, entropy: Tensor, values: Tensor), update: Int
    ) throws -> [String: Double] {
        let entropy = evaluation.entropy.data.map(Double.init)
        let total = loss.loss - entropyCoefficient * mean(entropy)
        guard total.isFinite else { throw TrainingError.diverged(step: update, quantity: "the policy-gradient loss") }
        policy.zeroGradients()
        PolicyGradientTerms.surrogate([
            (evaluation.logProbabilities, loss.logProbabilityGradient), (evaluation.values, loss.valueGradient),
            (evaluation.entropy, entropy.map { _ in -entropyCoefficient / Double(entropy.count) }),
        ]).backward()
        clipGradientNorm(policy.parameters, maximumNorm: Float(maxGradientNorm))
        optimizer.step()
        var metrics = loss.statistics.values
        metrics["losses/entropy"] = mean(entropy)
        return metrics
    }
}
