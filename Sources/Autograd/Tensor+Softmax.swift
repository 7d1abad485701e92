import Foundation

// Softmax, log-softmax and the fused softmax-cross-entropy, along the last axis.

extension Tensor {
    /// softmax along the last axis. Backward: dx = y ⊙ (g − Σ g⊙y).
    public func softmax() -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                let row = x.baseAddress! + r * k
                var m = -Float.infinity
                for j in 0..<k { m = Swift.max(m, row[j]) }
                out.withUnsafeMutableBufferPointer { o in
                    let dst = o.baseAddress! + r * k
                    for j in 0..<k { dst[j] = row[j] - m }
                    expInPlace(dst, k)
                    var s: Float = 0
                    for j in 0..<k { s += dst[j] }
                    let inv = 1 / s
                    for j in 0..<k { dst[j] *= inv }
                }
            }
        }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let g = output.grad!, y = output.data
            self.accumulateGradient { gx in
                for r in 0..<rows {
                    var dot: Float = 0
                    for j in 0..<k { dot += g[r * k + j] * y[r * k + j] }
                    for j in 0..<k { gx[r * k + j] += y[r * k + j] * (g[r * k + j] - dot) }
                }
            }
        }
    }

    /// log-softmax along the last axis. Backward: dx = g − softmax ⊙ Σ g.
    public func logSoftmax() -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                let row = x.baseAddress! + r * k
                var m = -Float.infinity
                for j in 0..<k { m = Swift.max(m, row[j]) }
                var s: Float = 0
                out.withUnsafeMutableBufferPointer { o in
                    let dst = o.baseAddress! + r * k
                    for j in 0..<k { dst[j] = row[j] - m }
                    expInPlace(dst, k)
                    for j in 0..<k { s += dst[j] }
                }
                let logZ = m + Foundation.log(s)
                for j in 0..<k { out[r * k + j] = row[j] - logZ }
            }
        }
        var softmax = out
        softmax.withUnsafeMutableBufferPointer { p in if let base = p.baseAddress { expInPlace(base, p.count) } }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                for r in 0..<rows {
                    var total: Float = 0
                    for j in 0..<k { total += g[r * k + j] }
                    for j in 0..<k { gx[r * k + j] += g[r * k + j] - softmax[r * k + j] * total }
                }
            }
        }
    }

    /// Mean cross-entropy of logits [..., V] against integer targets (one per row), skipping rows whose
    /// target equals `ignoreIndex`: −(1/n) Σ log softmax(logits)[target]. Fused: one pass forward, and
    /// the backward is (softmax − onehot)/n without building the log-softmax graph.
    public func crossEntropy(targets: [Int], ignoreIndex: Int? = nil) -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        precondition(targets.count == rows, "crossEntropy needs \(rows) targets for logits \(shape), got \(targets.count)")
        var probabilities = [Float](repeating: 0, count: count)
        var total: Double = 0
        var used = 0
        data.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                let row = x.baseAddress! + r * k
                var m = -Float.infinity
                for j in 0..<k { m = Swift.max(m, row[j]) }
                var s: Float = 0
                probabilities.withUnsafeMutableBufferPointer { p in
                    let dst = p.baseAddress! + r * k
                    for j in 0..<k { dst[j] = row[j] - m }
                    expInPlace(dst, k)
                    for j in 0..<k { s += dst[j] }
                }
                let inv = 1 / s
                for j in 0..<k { probabilities[r * k + j] *= inv }
                let target = targets[r]
                if target == ignoreIndex { continue }
                precondition(target >= 0 && target < k, "target \(target) out of range 0..<\(k)")
                total -= Double(row[target] - m - Foundation.log(s))
                used += 1
            }
        }
        let n = Float(Swift.max(used, 1))
        return Tensor.result(shape: [], data: [Float(total) / n], parents: [self]) { output in
            let g = output.grad![0] / n
            self.accumulateGradient { gx in
                for r in 0..<rows where targets[r] != ignoreIndex {
                    for j in 0..<k { gx[r * k + j] += g * probabilities[r * k + j] }
                    gx[r * k + targets[r]] -= g
                }
            }
        }
    }
}
