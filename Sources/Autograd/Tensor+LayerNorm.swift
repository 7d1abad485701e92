import Foundation

extension Tensor {
    /// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016; PyTorch's `LayerNorm`):
    /// y = (x − μ) / √(σ² + ε) · γ + β with the biased variance σ² = mean((x − μ)²).
    /// Fused forward and backward (llm.c `layernorm_forward` / `layernorm_backward`):
    /// dx = (1/σ̂)(dŷ − mean(dŷ) − x̂ · mean(dŷ ⊙ x̂)), with dŷ = dy ⊙ γ.
    public func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        precondition(weight.shape == [c] && bias.shape == [c], "layerNorm parameters \(weight.shape), \(bias.shape) should be [\(c)] for input \(shape)")
        var out = [Float](repeating: 0, count: count)
        var normalized = [Float](repeating: 0, count: count)
        var inverseStd = [Float](repeating: 0, count: rows)
        data.withUnsafeBufferPointer { x in
            weight.data.withUnsafeBufferPointer { w in
                bias.data.withUnsafeBufferPointer { b in
                    for r in 0..<rows {
                        let row = x.baseAddress! + r * c
                        var mean: Float = 0
                        for j in 0..<c { mean += row[j] }
                        mean /= Float(c)
                        var variance: Float = 0
                        for j in 0..<c { let d = row[j] - mean; variance += d * d }
                        variance /= Float(c)
                        let s = 1 / (variance + epsilon).squareRoot()
                        inverseStd[r] = s
                        for j in 0..<c {
                            let n = (row[j] - mean) * s
                            normalized[r * c + j] = n
                            out[r * c + j] = n * w[j] + b[j]
                        }
                    }
                }
            }
        }
        return Tensor.result(shape: shape, data: out, parents: [self, weight, bias]) { output in
            let g = output.grad!
            let w = weight.data
            if weight.requiresGrad || bias.requiresGrad {
                var gw = [Float](repeating: 0, count: c), gb = [Float](repeating: 0, count: c)
                for r in 0..<rows {
                    for j in 0..<c {
                        gw[j] += g[r * c + j] * normalized[r * c + j]
                        gb[j] += g[r * c + j]
                    }
                }
                weight.accumulateGradient(gw)
                bias.accumulateGradient(gb)
            }
            self.accumulateGradient { gx in
                for r in 0..<rows {
                    var meanDy: Float = 0, meanDyXhat: Float = 0
                    for j in 0..<c {
                        let dy = g[r * c + j] * w[j]
                        meanDy += dy
                        meanDyXhat += dy * normalized[r * c + j]
                    }
                    meanDy /= Float(c)
                    meanDyXhat /= Float(c)
                    let s = inverseStd[r]
                    for j in 0..<c {
                        let dy = g[r * c + j] * w[j]
                        gx[r * c + j] += s * (dy - meanDy - normalized[r * c + j] * meanDyXhat)
                    }
                }
            }
        }
    }
}
