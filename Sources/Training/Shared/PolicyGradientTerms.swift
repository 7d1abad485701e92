import Autograd

/// Puts an objective's analytic gradients on the tape. The objectives (`Objectives`) are pure Double
/// functions that return ∂loss/∂x for the tensors x they read (token log-probs, values); the surrogate
/// Σ g·x has exactly those gradients, so its backward pass carries them into the parameters.
/// Used by every trainer whose objective returns such gradients (GRPO, RLOO, token PPO, DPO, …).
public enum PolicyGradientTerms {
    /// Σ over (x, g) pairs of Σᵢ gᵢ·xᵢ, with g held constant (an empty g contributes nothing).
    public static func surrogate(_ terms: [(Tensor, [Double])]) -> Tensor {
        var total: Tensor?
        for (tensor, gradient) in terms where !gradient.isEmpty {
            let term = (tensor * Tensor(shape: tensor.shape, data: gradient.map(Float.init))).sum()
            total = total.map { $0 + term } ?? term
        }
        return total ?? Tensor(scalar: 0)
    }

    /// Zeroes the gradients of `parameters`, then backpropagates the surrogate of `terms`: afterwards each
    /// parameter's `grad` holds ∂loss/∂θ = Σ g·∂x/∂θ.
    public static func backward(_ terms: [(Tensor, [Double])], parameters: [Tensor]) {
        for parameter in parameters { parameter.zeroGrad() }
        surrogate(terms).backward()
    }
}
