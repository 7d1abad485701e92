import Foundation

// Reductions: over all elements, or along one axis viewed as (outer, axis, inner).

extension Tensor {
    /// (outer, extent, inner) sizes of `axis`, so element (o, a, i) sits at (o·extent + a)·inner + i.
    func axisLayout(_ axis: Int) -> (outer: Int, extent: Int, inner: Int) {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    /// Normalises a negative axis (-1 = last).
    func resolvedAxis(_ axis: Int) -> Int { axis < 0 ? axis + rank : axis }

    func reducedShape(_ axis: Int, keepingDimensions: Bool) -> [Int] {
        var s = shape
        if keepingDimensions { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// Σ of all elements (a scalar).
    public func sum() -> Tensor {
        var total: Float = 0
        data.withUnsafeBufferPointer { x in for v in x { total += v } }
        let n = count
        return Tensor.result(shape: [], data: [total], parents: [self]) { output in
            let g = output.grad![0]
            self.accumulateGradient { gx in for i in 0..<n { gx[i] += g } }
        }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Σ along `axis`.
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = resolvedAxis(axis)
        let (outer, extent, inner) = axisLayout(axis)
        var out = [Float](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for a in 0..<extent {
                    let base = (o * extent + a) * inner
                    for i in 0..<inner { out[o * inner + i] += x[base + i] }
                }
            }
        }
        return Tensor.result(
            shape: reducedShape(axis, keepingDimensions: keepingDimensions), data: out, parents: [self]
        ) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                for o in 0..<outer {
                    for a in 0..<extent {
                        let base = (o * extent + a) * inner
                        for i in 0..<inner { gx[base + i] += g[o * inner + i] }
                    }
                }
            }
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let extent = shape[resolvedAxis(axis)]
        return sum(axis: axis, keepingDimensions: keepingDimensions) * (1 / Float(Swift.max(extent, 1)))
    }

    /// Maximum along `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = resolvedAxis(axis)
        let (outer, extent, inner) = axisLayout(axis)
        precondition(extent > 0, "max over an empty axis of shape \(shape)")
        var out = [Float](repeating: -.infinity, count: outer * inner)
        var argmax = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for a in 0..<extent {
                for i in 0..<inner {
                    let v = data[(o * extent + a) * inner + i]
                    if v > out[o * inner + i] || a == 0 {
                        out[o * inner + i] = v
                        argmax[o * inner + i] = a
                    }
                }
            }
        }
        return Tensor.result(
            shape: reducedShape(axis, keepingDimensions: keepingDimensions), data: out, parents: [self]
        ) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                for o in 0..<outer {
                    for i in 0..<inner { gx[(o * extent + argmax[o * inner + i]) * inner + i] += g[o * inner + i] }
                }
            }
        }
    }

    /// log Σ exp along `axis`, computed stably (shifted by the maximum) by `RowSoftmax`, the lab's one
    /// softmax. Gradient: softmax.
    public func logSumExp(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = resolvedAxis(axis)
        let (outer, extent, inner) = axisLayout(axis)
        var out = [Float](repeating: 0, count: outer * inner)
        // softmax along the axis, kept for the backward, laid out as the input.
        var probabilities = [Float](repeating: 0, count: count)
        var row = [Float](repeating: 0, count: extent)
        row.withUnsafeMutableBufferPointer { row in
            guard let row = row.baseAddress else { return }
            for o in 0..<outer {
                for i in 0..<inner {
                    for a in 0..<extent { row[a] = data[(o * extent + a) * inner + i] }
                    let (m, total) = RowSoftmax.probabilities(row, into: row, count: extent)
                    out[o * inner + i] = RowSoftmax.logNormalizer(maximum: m, total: total)
                    for a in 0..<extent { probabilities[(o * extent + a) * inner + i] = row[a] }
                }
            }
        }
        return Tensor.result(
            shape: reducedShape(axis, keepingDimensions: keepingDimensions), data: out, parents: [self]
        ) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                for o in 0..<outer {
                    for a in 0..<extent {
                        for i in 0..<inner {
                            let k = (o * extent + a) * inner + i
                            gx[k] += g[o * inner + i] * probabilities[k]
                        }
                    }
                }
            }
        }
    }
}
