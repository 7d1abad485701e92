import Foundation

// Softmax, log-softmax and the fused softmax-cross-entropy, along the last axis.

extension Tensor {
    /// Writes exp(x_j − max x) for one row of k logits into `destination`; returns the maximum and the sum.
    @inline(__always)
    static func shiftedExponentials(_ row: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, _ k: Int) -> (maximum: Float, total: Float) {
        var m = -Float.infinity
        for j in 0..<k { m = Swift.max(m, row[j]) }
        for j in 0..<k { destination[j] = row[j] - m }
        expInPlace(destination, k)
        var total: Float = 0
        for j in 0..<k { total += destination[j] }
        return (m, total)
    }

    /// softmax along the last axis. Backward: dx = y ⊙ (g − Σ g⊙y).
    public func softmax() -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let dst = o.baseAddress! + r * k
                    let inverse = 1 / Tensor.shiftedExponentials(x.baseAddress! + r * k, into: dst, k).total
                    for j in 0..<k { dst[j] *= inverse }
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
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let row = x.baseAddress! + r * k, dst = o.baseAddress! + r * k
                    let (m, total) = Tensor.shiftedExponentials(row, into: dst, k)
                    let logZ = m + Foundation.log(total)
                    for j in 0..<k { dst[j] = row[j] - logZ }
                }
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
            probabilities.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows {
                    let row = x.baseAddress! + r * k, dst = p.baseAddress! + r * k
                    let (m, s) = Tensor.shiftedExponentials(row, into: dst, k)
                    let inverse = 1 / s
                    for j in 0..<k { dst[j] *= inverse }
                    let target = targets[r]
                    if target == ignoreIndex { continue }
                    precondition(target >= 0 && target < k, "target \(target) out of range 0..<\(k)")
                    total -= Double(row[target] - m - Foundation.log(s))
                    used += 1
                }
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
