import Foundation

extension Tensor {
    /// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016; PyTorch's `LayerNorm`):
    /// y = (x − μ) / √(σ² + ε) · γ + β with the biased variance σ² = mean((x − μ)²).
    /// Fused forward and backward (llm.c `layernorm_forward` / `layernorm_backward`):
    /// dx = (1/σ̂)(dŷ − mean(dŷ) − x̂ · mean(dŷ ⊙ x̂)), with dŷ = dy ⊙ γ.
    public func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        precondition(
            weight.shape == [c] && bias.shape == [c],
            "layerNorm parameters \(weight.shape), \(bias.shape) should be [\(c)] for input \(shape)")
        let total = count
        var normalized = [Float](repeating: 0, count: total)
        var inverseStd = [Float](repeating: 0, count: rows)
        let out = [Float](unsafeUninitializedCapacity: total) { y, initialized in
            data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    bias.data.withUnsafeBufferPointer { b in
                        normalized.withUnsafeMutableBufferPointer { n in
                            inverseStd.withUnsafeMutableBufferPointer { s in
                                guard total > 0 else { return }
                                layerNormForward(
                                    x.baseAddress!, weight: w.baseAddress!, bias: b.baseAddress!, rows: rows, c: c,
                                    epsilon: epsilon,
                                    out: y.baseAddress!, normalized: n.baseAddress!, inverseStd: s.baseAddress!)
                            }
                        }
                    }
                }
            }
            initialized = total
        }
        return Tensor.result(shape: shape, data: out, parents: [self, weight, bias]) { output in
            guard total > 0 else { return }
            let g = output.grad!
            if weight.requiresGrad || bias.requiresGrad {
                var gw = [Float](repeating: 0, count: c), gb = [Float](repeating: 0, count: c)
                g.withUnsafeBufferPointer { gp in
                    normalized.withUnsafeBufferPointer { n in
                        gw.withUnsafeMutableBufferPointer { gwp in
                            gb.withUnsafeMutableBufferPointer { gbp in
                                layerNormParameterBackward(
                                    gp.baseAddress!, normalized: n.baseAddress!, rows: rows, c: c,
                                    weightGradient: gwp.baseAddress!, biasGradient: gbp.baseAddress!)
                            }
                        }
                    }
                }
                weight.accumulateGradient(gw)
                bias.accumulateGradient(gb)
            }
            self.accumulateGradient { gx in
                g.withUnsafeBufferPointer { gp in
                    weight.data.withUnsafeBufferPointer { w in
                        normalized.withUnsafeBufferPointer { n in
                            inverseStd.withUnsafeBufferPointer { s in
                                layerNormInputBackward(
                                    gp.baseAddress!, weight: w.baseAddress!, normalized: n.baseAddress!,
                                    inverseStd: s.baseAddress!,
                                    rows: rows, c: c, inputGradient: gx.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}
