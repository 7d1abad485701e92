import Foundation

// Tensor: a Float32, row-major, shape-checked array that records the operations applied to it
// so that `backward()` can compute gradients by reverse-mode automatic differentiation.
//
// References: Karpathy's micrograd (`engine.py`: each op's backward next to its forward, a tape
// walked in reverse topological order) and llm.c (`*_forward` / `*_backward` pairs).
//
// Shape legend used in the op files: B batch, T time (tokens), C channels (model width d),
// V vocabulary, H heads, D head size, N rows, K reduction size, M/N matmul output sizes.

/// A Float32 tensor and, when gradients are recorded, its node in the autodiff tape.
public final class Tensor {
    /// The extent of every axis, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// The elements in row-major order. Optimisers update parameters in place.
    public var data: [Float] { didSet { transposeCache = nil } }
    /// A 2-D leaf's transpose, kept between calls while `data` is unchanged: `linear` multiplies by
    /// Wᵀ, and a parameter changes once per optimizer step but is used by every forward pass and
    /// every decoding step (transposing it each time was 5 % of a GRPO step).
    var transposeCache: [Float]?
    /// The gradient of the last `backward()` root with respect to this tensor (same count as `data`),
    /// or nil when nothing has flowed here yet. Accumulates across `backward()` calls until `zeroGrad()`.
    public var grad: [Float]?
    /// Whether gradients flow to this tensor: set for parameters, inherited by results of ops on them.
    public private(set) var requiresGrad: Bool

    /// The tensors this one was computed from (empty for leaves).
    var parents: [Tensor] = []
    /// Reads `self.grad` and accumulates into the parents' gradients.
    var backwardFunction: ((Tensor) -> Void)?

    /// Creates a tensor from elements in row-major order.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        precondition(
            data.count == shape.reduce(1, *),
            "Tensor data has \(data.count) elements but shape \(shape) needs \(shape.reduce(1, *))")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A tensor of zeros.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    /// The transpose of this rank-2 tensor's data, [columns, rows]; cached for leaves.
    func transposedData() -> [Float] {
        precondition(rank == 2, "transposedData needs a rank-2 tensor, got shape \(shape)")
        if let cached = transposeCache { return cached }
        let rows = shape[0], columns = shape[1]
        let result = [Float](unsafeUninitializedCapacity: rows * columns) { destination, initialized in
            data.withUnsafeBufferPointer { source in
                if let s = source.baseAddress, let d = destination.baseAddress {
                    transpose(s, rows: rows, columns: columns, into: d)
                }
            }
            initialized = rows * columns
        }
        if isLeaf { transposeCache = result }
        return result
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// Number of axes.
    public var rank: Int { shape.count }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(data.count == 1, "scalar needs a one-element tensor, got shape \(shape)")
        return data[0]
    }

    /// Whether this tensor is a leaf of the tape (a parameter or an input), not the result of an op.
    public var isLeaf: Bool { backwardFunction == nil }

    // MARK: - Gradient mode

    /// Whether ops record the tape. Turned off inside `Tensor.withoutGradients`. Task-local (and so
    /// thread-local outside tasks): concurrent tests or samplers cannot switch each other's mode.
    @TaskLocal static var gradientsEnabled = true

    /// Runs `body` without recording the tape: for sampling, evaluation, frozen reference policies
    /// and stop-gradient terms. Restores the previous mode afterwards.
    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        try $gradientsEnabled.withValue(false) { try body() }
    }

    /// A leaf copy sharing no tape with this tensor: gradients stop here.
    public func detached() -> Tensor {
        Tensor(shape: shape, data: data)
    }

    /// Builds the result of an op: records `parents` and `backward` only when some parent needs gradients.
    @inline(__always)
    static func result(shape: [Int], data: [Float], parents: [Tensor], backward: @escaping (Tensor) -> Void) -> Tensor {
        let output = Tensor(shape: shape, data: data)
        if gradientsEnabled && parents.contains(where: { $0.requiresGrad }) {
            output.requiresGrad = true
            output.parents = parents
            output.backwardFunction = backward
        }
        return output
    }

    /// Adds `body`'s contribution into this tensor's gradient, allocating zeros on first use.
    @inline(__always)
    func accumulateGradient(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if grad == nil { grad = [Float](repeating: 0, count: data.count) }
        grad!.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Adds `values` (same count) into this tensor's gradient.
    func accumulateGradient(_ values: [Float]) {
        guard requiresGrad else { return }
        precondition(values.count == data.count, "gradient of \(values.count) elements for shape \(shape)")
        if grad == nil {
            grad = values
            return
        }
        grad!.withUnsafeMutableBufferPointer { g in
            values.withUnsafeBufferPointer { v in
                for i in 0..<g.count { g[i] += v[i] }
            }
        }
    }

    // MARK: - Backward

    /// Backpropagates from this scalar: d(self)/d(self) = 1.
    public func backward() {
        precondition(data.count == 1, "backward() needs a scalar; use backward(gradient:) for shape \(shape)")
        backward(gradient: [1])
    }

    /// Backpropagates an explicit upstream gradient of this tensor's shape (for example the gradient
    /// of an objective computed outside the tape with respect to these log-probabilities).
    ///
    /// Walks the tape in reverse topological order (iterative, so deep graphs cannot overflow the
    /// stack). Gradients of intermediate results are released after use; leaves keep theirs.
    public func backward(gradient: [Float]) {
        precondition(
            gradient.count == data.count, "backward gradient has \(gradient.count) elements for shape \(shape)")
        guard requiresGrad else { return }
        accumulateGradient(gradient)

        // Iterative depth-first post-order: parents before children in `order`.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(node)
                continue
            }
            let id = ObjectIdentifier(node)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((node, true))
            for parent in node.parents where parent.requiresGrad && !visited.contains(ObjectIdentifier(parent)) {
                stack.append((parent, false))
            }
        }
        for node in order.reversed() {
            guard let function = node.backwardFunction else { continue }
            if node.grad != nil { function(node) }
            // Free the graph behind us: intermediate results are not reused after backward.
            node.grad = nil
            node.backwardFunction = nil
            node.parents = []
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), data: [\(preview)\(data.count > 8 ? ", …" : "")])"
    }
}
