import Foundation

extension Tensor {
    /// Causal multi-head self-attention on a fused projection (GPT-2 / nanoGPT `CausalSelfAttention`,
    /// Vaswani et al. 2017 §3.2), one op with a hand-written backward (llm.c `attention_forward/backward`).
    ///
    /// Input `qkv`: (B, T, 3C) with q = [0, C), k = [C, 2C), v = [2C, 3C); head h uses columns
    /// [hD, (h+1)D) of each, D = C / H. Output: (B, T, C), head h's result in columns [hD, (h+1)D).
    /// s[t,u] = q_t·k_u / √D for u ≤ t (−∞ above the diagonal), a = softmax_u(s), o_t = Σ_u a[t,u] v_u.
    ///
    /// Backward: dv_u = Σ_t a[t,u] do_t; da[t,u] = do_t·v_u; ds = a ⊙ (da − Σ_u a⊙da);
    /// dq_t = Σ_u ds[t,u] k_u / √D; dk_u = Σ_t ds[t,u] q_t / √D.
    public func causalSelfAttention(heads: Int) -> Tensor {
        precondition(rank == 3 && shape[2] % 3 == 0, "causalSelfAttention needs (B, T, 3C), got \(shape)")
        let batch = shape[0], time = shape[1], channels = shape[2] / 3
        precondition(heads > 0 && channels % heads == 0, "C = \(channels) is not divisible by \(heads) heads")
        let headSize = channels / heads
        let scale = 1 / Float(headSize).squareRoot()
        let rowStride = 3 * channels
        var out = [Float](repeating: 0, count: batch * time * channels)
        // Attention weights a[b, h, t, u], kept for the backward pass.
        var weights = [Float](repeating: 0, count: batch * heads * time * time)
        let work = batch * heads * time * time * headSize * 2

        data.withUnsafeBufferPointer { qkvBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                weights.withUnsafeMutableBufferPointer { weightBuffer in
                    let pointers = UncheckedSendable((qkvBuffer.baseAddress!, outBuffer.baseAddress!, weightBuffer.baseAddress!))
                    parallelChunks(count: batch * heads, work: work, threshold: 1 << 18) { range in
                        let (qkv, o, a) = pointers.value
                        for bh in range {
                            let b = bh / heads, h = bh % heads
                            let base = qkv + b * time * rowStride + h * headSize
                            let att = a + bh * time * time
                            for t in 0..<time {
                                let q = base + t * rowStride
                                let row = att + t * time
                                var maximum = -Float.infinity
                                for u in 0...t {
                                    let s = dot(q, base + u * rowStride + channels, headSize) * scale
                                    row[u] = s
                                    maximum = Swift.max(maximum, s)
                                }
                                var total: Float = 0
                                for u in 0...t { row[u] -= maximum }
                                expInPlace(row, t + 1)
                                for u in 0...t { total += row[u] }
                                let inverse = 1 / total
                                let outRow = o + (b * time + t) * channels + h * headSize
                                for u in 0...t {
                                    row[u] *= inverse
                                    axpy(row[u], base + u * rowStride + 2 * channels, outRow, headSize)
                                }
                            }
                        }
                    }
                }
            }
        }

        return Tensor.result(shape: [batch, time, channels], data: out, parents: [self]) { output in
            let g = output.grad!
            let input = self.data
            self.accumulateGradient { gradBuffer in
                g.withUnsafeBufferPointer { gBuffer in
                    input.withUnsafeBufferPointer { qkvBuffer in
                        weights.withUnsafeBufferPointer { weightBuffer in
                            let pointers = UncheckedSendable((gBuffer.baseAddress!, qkvBuffer.baseAddress!, weightBuffer.baseAddress!, gradBuffer.baseAddress!))
                            parallelChunks(count: batch * heads, work: 2 * work, threshold: 1 << 18) { range in
                                let (dout, qkv, a, dqkv) = pointers.value
                                var dAttention = [Float](repeating: 0, count: time)
                                for bh in range {
                                    let b = bh / heads, h = bh % heads
                                    let base = qkv + b * time * rowStride + h * headSize
                                    let dBase = dqkv + b * time * rowStride + h * headSize
                                    let att = a + bh * time * time
                                    for t in 0..<time {
                                        let row = att + t * time
                                        let dOutRow = dout + (b * time + t) * channels + h * headSize
                                        var weighted: Float = 0
                                        for u in 0...t {
                                            let v = base + u * rowStride + 2 * channels
                                            axpy(row[u], dOutRow, dBase + u * rowStride + 2 * channels, headSize)
                                            let da = dot(dOutRow, v, headSize)
                                            dAttention[u] = da
                                            weighted += row[u] * da
                                        }
                                        let q = base + t * rowStride
                                        let dq = dBase + t * rowStride
                                        for u in 0...t {
                                            let ds = row[u] * (dAttention[u] - weighted) * scale
                                            axpy(ds, base + u * rowStride + channels, dq, headSize)
                                            axpy(ds, q, dBase + u * rowStride + channels, headSize)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
