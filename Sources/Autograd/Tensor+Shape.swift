// Shape ops: reshape, transpose, slice, concat, and the two gathers training needs
// (embedding lookup by row, and picking one entry per row: the log-prob of a taken action/token).

extension Tensor {
    /// Same elements, new shape (one extent may be -1: inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[unknown] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor.result(shape: resolved, data: data, parents: [self]) { output in
            self.accumulateGradient(output.grad!)
        }
    }

    /// Swaps two axes (a copy in the new row-major order).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let a0 = resolvedAxis(axis0), a1 = resolvedAxis(axis1)
        var permutation = Array(0..<rank)
        permutation.swapAt(a0, a1)
        return permuted(permutation)
    }

    /// Reorders axes: output axis i is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "permutation \(permutation) does not fit shape \(shape)")
        let newShape = permutation.map { shape[$0] }
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1]
        }
        let strides = permutation.map { inputStrides[$0] }
        let sourceIndex = Tensor.stridedIndices(shape: newShape, strides: strides)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count { out[i] = data[sourceIndex[i]] }
        return Tensor.result(shape: newShape, data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gx in for i in 0..<g.count { gx[sourceIndex[i]] += g[i] } }
        }
    }

    /// Flat source index of every element of a `shape`-shaped walk with the given input strides.
    static func stridedIndices(shape: [Int], strides: [Int]) -> [Int] {
        let total = shape.reduce(1, *)
        var indices = [Int](repeating: 0, count: total)
        if total == 0 { return indices }
        var counter = [Int](repeating: 0, count: shape.count)
        var index = 0
        for flat in 0..<total {
            indices[flat] = index
            var axis = shape.count - 1
            while axis >= 0 {
                counter[axis] += 1
                index += strides[axis]
                if counter[axis] < shape[axis] { break }
                index -= strides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return indices
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = resolvedAxis(axis)
        let (outer, extent, inner) = axisLayout(axis)
        precondition(
            range.lowerBound >= 0 && range.upperBound <= extent,
            "slice \(range) out of bounds for axis \(axis) of \(shape)")
        var newShape = shape
        newShape[axis] = range.count
        let width = range.count * inner
        var out = [Float](repeating: 0, count: outer * width)
        for o in 0..<outer {
            let source = (o * extent + range.lowerBound) * inner
            for i in 0..<width { out[o * width + i] = data[source + i] }
        }
        return Tensor.result(shape: newShape, data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gx in
                for o in 0..<outer {
                    let source = (o * extent + range.lowerBound) * inner
                    for i in 0..<width { gx[source + i] += g[o * width + i] }
                }
            }
        }
    }

    /// Joins tensors along `axis` (all other extents equal).
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let axis = first.resolvedAxis(axis)
        for t in tensors {
            precondition(
                t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == axis || t.shape[$0] == first.shape[$0] },
                "cannot concatenate shapes \(tensors.map(\.shape)) along axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        let widths = tensors.map { $0.shape[axis] * inner }
        let totalWidth = widths.reduce(0, +)
        var newShape = first.shape
        newShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        var out = [Float](repeating: 0, count: outer * totalWidth)
        var offset = 0
        for (t, width) in zip(tensors, widths) {
            for o in 0..<outer {
                for i in 0..<width { out[o * totalWidth + offset + i] = t.data[o * width + i] }
            }
            offset += width
        }
        return result(shape: newShape, data: out, parents: tensors) { output in
            let g = output.grad!
            var offset = 0
            for (t, width) in zip(tensors, widths) {
                let start = offset
                t.accumulateGradient { gt in
                    for o in 0..<outer {
                        for i in 0..<width { gt[o * width + i] += g[o * totalWidth + start + i] }
                    }
                }
                offset += width
            }
        }
    }

    /// Rows of a [R, C] table picked by `indices` (an embedding lookup): result [indices.count, C].
    /// The backward pass scatter-adds into the picked rows.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank == 2, "gatherRows needs a [rows, columns] table, got \(shape)")
        let rows = shape[0], columns = shape[1]
        for index in indices { precondition(index >= 0 && index < rows, "row index \(index) out of range 0..<\(rows)") }
        let out = [Float](unsafeUninitializedCapacity: indices.count * columns) { buffer, initialized in
            data.withUnsafeBufferPointer { table in
                guard let destination = buffer.baseAddress, let source = table.baseAddress else { return }
                for (r, index) in indices.enumerated() {
                    (destination + r * columns).update(from: source + index * columns, count: columns)
                }
            }
            initialized = indices.count * columns
        }
        return Tensor.result(shape: [indices.count, columns], data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gt in
                g.withUnsafeBufferPointer { gb in
                    guard let target = gt.baseAddress, let source = gb.baseAddress else { return }
                    for (r, index) in indices.enumerated() {
                        CPUKernels.add(
                            target + index * columns, source + r * columns, into: target + index * columns,
                            count: columns)
                    }
                }
            }
        }
    }

    /// For [..., K] input and one index per leading position, the entries x[..., indices[r]]:
    /// the log-probability of the taken action or token. Result shape: the leading axes.
    public func pick(_ indices: [Int]) -> Tensor {
        let k = shape.last ?? 1
        let rows = count / Swift.max(k, 1)
        precondition(indices.count == rows, "pick needs \(rows) indices for shape \(shape), got \(indices.count)")
        var out = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            precondition(indices[r] >= 0 && indices[r] < k, "index \(indices[r]) out of range 0..<\(k)")
            out[r] = data[r * k + indices[r]]
        }
        return Tensor.result(shape: Array(shape.dropLast()), data: out, parents: [self]) { output in
            let g = output.grad!
            self.accumulateGradient { gx in for r in 0..<rows { gx[r * k + indices[r]] += g[r] } }
        }
    }
}
