/// NumPy broadcasting: shapes are aligned at their last axis; an axis of extent 1 (or a missing one)
/// stretches to the other's extent.
enum Broadcasting {
    /// The broadcast shape of `a` and `b`, or a precondition failure naming both shapes.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let da = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let db = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) cannot be broadcast together")
            result[axis] = max(da, db)
        }
        return result
    }

    /// For each element of the broadcast `output` shape, the flat index into a tensor of `shape`.
    static func sourceIndices(of shape: [Int], in output: [Int]) -> [Int] {
        let rank = output.count
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        var strides = [Int](repeating: 0, count: rank)
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 ? 0 : running
            running *= padded[axis]
        }
        return Tensor.stridedIndices(shape: output, strides: strides)
    }
}
