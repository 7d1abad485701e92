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
        // Attention weights per (b, h) in the kernels' key-major layout, kept for the backward pass.
        let weightsCount = attentionWeightsCount(time: time)
        var weights = [Float](repeating: 0, count: batch * heads * weightsCount)
        let work = batch * heads * time * time * headSize * 2
        let scratchCount = attentionScratchCount(time: time, headSize: headSize)

        data.withUnsafeBufferPointer { qkvBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                weights.withUnsafeMutableBufferPointer { weightBuffer in
                    let pointers = UncheckedSendable(
                        (qkvBuffer.baseAddress!, outBuffer.baseAddress!, weightBuffer.baseAddress!))
                    parallelChunks(count: batch * heads, work: work, threshold: 1 << 18) { range in
                        let (qkv, o, a) = pointers.value
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
                        defer { scratch.deallocate() }
                        for bh in range {
                            let b = bh / heads, h = bh % heads
                            let q = qkv + b * time * rowStride + h * headSize
                            causalAttentionForward(
                                q: q, k: q + channels, v: q + 2 * channels, stride: rowStride, time: time,
                                headSize: headSize,
                                scale: scale, out: o + b * time * channels + h * headSize, outStride: channels,
                                weights: a + bh * weightsCount, scratch: scratch)
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
                            let pointers = UncheckedSendable(
                                (
                                    gBuffer.baseAddress!, qkvBuffer.baseAddress!, weightBuffer.baseAddress!,
                                    gradBuffer.baseAddress!
                                ))
                            parallelChunks(count: batch * heads, work: 2 * work, threshold: 1 << 18) { range in
                                let (dout, qkv, a, dqkv) = pointers.value
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
                                defer { scratch.deallocate() }
                                for bh in range {
                                    let b = bh / heads, h = bh % heads
                                    let offset = b * time * rowStride + h * headSize
                                    let q = qkv + offset, dq = dqkv + offset
                                    causalAttentionBackward(
                                        q: q, k: q + channels, v: q + 2 * channels, stride: rowStride, time: time,
                                        headSize: headSize,
                                        scale: scale, weights: a + bh * weightsCount,
                                        outGradient: dout + b * time * channels + h * headSize, outStride: channels,
                                        dq: dq, dk: dq + channels, dv: dq + 2 * channels, scratch: scratch)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
