import Testing
@testable import Autograd
import Randomness

/// Random tensor with entries uniform in [low, high).
func randomTensor(
    _ shape: [Int], _ generator: inout SeededGenerator, low: Float = -1, high: Float = 1, requiresGrad: Bool = true
) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(
        shape: shape, data: (0..<count).map { _ in low + (high - low) * generator.nextUniformFloat() },
        requiresGrad: requiresGrad)
}

/// Checks the tape's gradient of L = Σ w ⊙ f(inputs) (w fixed random weights) against central finite
/// differences for every input element. Float32 throughout: ε = 1e-2 and a tolerance of
/// |analytic − numeric| ≤ atol + rtol·|numeric| — the truncation error of central differences is O(ε²)
/// and Float32 rounding of L is ≈ 1e-7·|L|/ε, so 1e-3 absolute separates right from wrong gradients
/// (a wrong sign or factor of 2 misses by orders of magnitude). Fused ops are also checked tightly
/// against their composite versions elsewhere.
func checkGradients(
    _ inputs: [Tensor], epsilon: Float = 1e-2, absoluteTolerance: Float = 2e-3, relativeTolerance: Float = 1e-2,
    sourceLocation: SourceLocation = #_sourceLocation, _ function: ([Tensor]) -> Tensor
) {
    var generator = SeededGenerator(seed: 99)
    let probe = function(inputs)
    let weights = Tensor(shape: probe.shape, data: (0..<probe.count).map { _ in generator.nextUniformFloat() * 2 - 1 })
    func loss() -> Float {
        Tensor.withoutGradients { (function(inputs) * weights).sum().scalar }
    }
    for input in inputs { input.zeroGrad() }
    (function(inputs) * weights).sum().backward()
    for (index, input) in inputs.enumerated() where input.requiresGrad {
        let analytic = input.grad ?? [Float](repeating: 0, count: input.count)
        var worst: Float = 0
        for i in 0..<input.count {
            let saved = input.data[i]
            input.data[i] = saved + epsilon
            let plus = loss()
            input.data[i] = saved - epsilon
            let minus = loss()
            input.data[i] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            let error = abs(analytic[i] - numeric) - relativeTolerance * abs(numeric)
            worst = max(worst, error)
            if error > absoluteTolerance {
                Issue.record(
                    "input \(index) element \(i): analytic \(analytic[i]) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
                return
            }
        }
    }
}
