import Autograd
import Objectives

/// The step both trace-based actor-critics take on each parameter group after the tape's backward pass
/// (actor-critic(λ) episodic, and average-reward actor-critic continuing):
/// z ← γλ·z + c·∇ (c: S&B's I = γᵗ for the episodic actor, 1 otherwise), then θ ← θ + (αδ)·z.
/// `stepSize` is αδ. The weights are updated in one pass over their buffer (element-wise writes through
/// `Tensor.data` would copy the array on every write).
func eligibilityTraceStep(
    _ parameters: [Tensor], traces: inout [[Double]], gradientScale: Double = 1, gamma: Double, lambda: Double,
    stepSize: Double
) {
    for (index, parameter) in parameters.enumerated() {
        let gradient = parameter.grad ?? [Float](repeating: 0, count: parameter.count)
        traces[index] = eligibilityTraceUpdate(
            trace: traces[index], gradient: gradient.map { gradientScale * Double($0) }, gamma: gamma, lambda: lambda)
        let trace = traces[index]
        parameter.data.withUnsafeMutableBufferPointer { data in
            for i in 0..<data.count { data[i] += Float(stepSize * trace[i]) }
        }
    }
}
