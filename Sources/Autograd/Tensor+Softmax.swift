import Foundation

// Softmax, log-softmax and the fused softmax-cross-entropy, along the last axis, and `RowSoftmax`, the
// row kernel they share with every sampler.

/// The lab's one softmax of a row of logits: the tape's `softmax`, `logSoftmax`, `crossEntropy` and
/// `logSumExp` run it, and so do the samplers off the tape (`Categorical.draw` in Policies, used by
/// `MLPActorCritic.act` and the KV-cache sampler), so an action's or a token's log-probability at
/// sampling time is the one the update computes from the same logits, to the bit. The exponential is
/// the lab's vectorised exp (Kernels/FastMath.swift), not libm's `expf` (≈ 2 ulp apart).
public enum RowSoftmax {
    /// Writes exp(x_j − max x) for a row of k logits into `destination` (which may be `row`), and returns
    /// max x and the sum of those exponentials taken in order j = 0, 1, …: the softmax's unnormalised
    /// weights, with log Z = `logNormalizer(maximum:total:)`.
    @inline(__always)
    public static func exponentials(
        _ row: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count k: Int
    ) -> (maximum: Float, total: Float) {
        var m = -Float.infinity
        for j in 0..<k { m = Swift.max(m, row[j]) }
        for j in 0..<k { destination[j] = row[j] - m }
        expInPlace(destination, k)
        var total: Float = 0
        for j in 0..<k { total += destination[j] }
        return (m, total)
    }

    /// Writes softmax(x) of a row of k logits into `destination` (which may be `row`); returns what
    /// `exponentials` returns.
    @inline(__always)
    public static func probabilities(
        _ row: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count k: Int
    ) -> (maximum: Float, total: Float) {
        let (m, total) = exponentials(row, into: destination, count: k)
        let inverse = 1 / total
        for j in 0..<k { destination[j] *= inverse }
        return (m, total)
    }

    /// log Z = max x + log Σ_j exp(x_j − max x): log softmax(x)_j = x_j − log Z.
    @inline(__always)
    public static func logNormalizer(maximum: Float, total: Float) -> Float { maximum + Foundation.log(total) }
}

extension Tensor {
    /// Runs `body` over rows 0..<rows of a row-wise op (`width` floats a row), split over the kernel
    /// threads when the rows are many enough to pay for the hand-off. `body` must touch only its rows'
    /// memory; each row is computed the same way whichever thread runs it, so the result does not
    /// depend on the split.
    static func parallelRows(_ rows: Int, width: Int, _ body: (Range<Int>) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            let shared = UncheckedSendable(escapable)
            // ≈ 16 flops an element (an exponential and its row sums); the threshold is parallelChunks'.
            parallelChunks(count: rows, granularity: 16, work: 16 * rows * width) { range in shared.value(range) }
        }
    }

    /// softmax along the last axis. Backward: dx = y ⊙ (g − Σ g⊙y).
    public func softmax() -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    _ = RowSoftmax.probabilities(x.baseAddress! + r * k, into: o.baseAddress! + r * k, count: k)
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

    /// log-softmax along the last axis. Backward: dx = g − softmax ⊙ Σ g. Rows are split over the
    /// kernel threads when there are enough (the token objectives' log-probs of a whole batch).
    public func logSoftmax() -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        var out = [Float](repeating: 0, count: count)
        var softmax = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                softmax.withUnsafeMutableBufferPointer { p in
                    guard let x = x.baseAddress, let o = o.baseAddress, let p = p.baseAddress else { return }
                    Tensor.parallelRows(rows, width: k) { range in
                        for r in range {
                            let row = x + r * k, dst = o + r * k
                            let (m, total) = RowSoftmax.probabilities(row, into: p + r * k, count: k)
                            let logZ = RowSoftmax.logNormalizer(maximum: m, total: total)
                            for j in 0..<k { dst[j] = row[j] - logZ }
                        }
                    }
                }
            }
        }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                g.withUnsafeBufferPointer { g in
                    softmax.withUnsafeBufferPointer { p in
                        guard let g = g.baseAddress, let p = p.baseAddress, let gx = gx.baseAddress else { return }
                        Tensor.parallelRows(rows, width: k) { range in
                            for r in range {
                                let gr = g + r * k, pr = p + r * k, dst = gx + r * k
                                var total: Float = 0
                                for j in 0..<k { total += gr[j] }
                                for j in 0..<k { dst[j] += gr[j] - pr[j] * total }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Mean cross-entropy of logits [..., V] against integer targets (one per row), skipping rows whose
    /// target equals `ignoreIndex`: −(1/n) Σ log softmax(logits)[target]. Fused: one pass forward, and
    /// the backward is (softmax − onehot)/n without building the log-softmax graph.
    public func crossEntropy(targets: [Int], ignoreIndex: Int? = nil) -> Tensor {
        let k = shape.last ?? 1, rows = count / Swift.max(k, 1)
        precondition(
            targets.count == rows, "crossEntropy needs \(rows) targets for logits \(shape), got \(targets.count)")
        for target in targets where target != ignoreIndex {
            precondition(target >= 0 && target < k, "target \(target) out of range 0..<\(k)")
        }
        var probabilities = [Float](repeating: 0, count: count)
        // Per-row loss terms, summed afterwards in row order (so the total does not depend on the split).
        var losses = [Double](repeating: 0, count: rows)
        data.withUnsafeBufferPointer { x in
            probabilities.withUnsafeMutableBufferPointer { p in
                losses.withUnsafeMutableBufferPointer { l in
                    guard let x = x.baseAddress, let p = p.baseAddress else { return }
                    Tensor.parallelRows(rows, width: k) { range in
                        for r in range where targets[r] != ignoreIndex {
                            let row = x + r * k
                            let (m, s) = RowSoftmax.probabilities(row, into: p + r * k, count: k)
                            l[r] = -Double(row[targets[r]] - RowSoftmax.logNormalizer(maximum: m, total: s))
                        }
                    }
                }
            }
        }
        let used = ignoreIndex.map { ignored in targets.reduce(0) { $0 + ($1 == ignored ? 0 : 1) } } ?? rows
        let total = losses.reduce(0, +)
        let n = Float(Swift.max(used, 1))
        return Tensor.result(shape: [], data: [Float(total) / n], parents: [self]) { output in
            let g = output.grad![0] / n
            self.accumulateGradient { gx in
                probabilities.withUnsafeBufferPointer { p in
                    guard let p = p.baseAddress, let gx = gx.baseAddress else { return }
                    Tensor.parallelRows(rows, width: k) { range in
                        for r in range where targets[r] != ignoreIndex {
                            let pr = p + r * k, dst = gx + r * k
                            for j in 0..<k { dst[j] += g * pr[j] }
                            dst[targets[r]] -= g
                        }
                    }
                }
            }
        }
    }
}
