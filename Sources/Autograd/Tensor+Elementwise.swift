import Foundation

// Elementwise ops. Binary ops broadcast (NumPy rules); their backward sums the gradient over the
// broadcast axes. Same-shape and scalar operands take a direct loop.

extension Tensor {
    /// Applies `forward` elementwise with broadcasting; `gradA`/`gradB` give ∂out/∂a and ∂out/∂b
    /// from (a, b, out) for the chain rule.
    @inline(__always)
    static func binary(
        _ a: Tensor, _ b: Tensor,
        forward: (Float, Float) -> Float,
        gradA: @escaping (Float, Float, Float) -> Float,
        gradB: @escaping (Float, Float, Float) -> Float
    ) -> Tensor {
        if a.shape == b.shape {
            let n = a.count
            let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                a.data.withUnsafeBufferPointer { pa in
                    b.data.withUnsafeBufferPointer { pb in
                        for i in 0..<n { buffer[i] = forward(pa[i], pb[i]) }
                    }
                }
                initialized = n
            }
            return result(shape: a.shape, data: out, parents: [a, b]) { output in
                let g = output.grad!, y = output.data
                if a.requiresGrad {
                    let (va, vb) = (a.data, b.data)
                    a.accumulateGradient { ga in for i in 0..<n { ga[i] += g[i] * gradA(va[i], vb[i], y[i]) } }
                }
                if b.requiresGrad {
                    let (va, vb) = (a.data, b.data)
                    b.accumulateGradient { gb in for i in 0..<n { gb[i] += g[i] * gradB(va[i], vb[i], y[i]) } }
                }
            }
        }
        let shape = Broadcasting.shape(a.shape, b.shape)
        let ia = a.shape == shape ? nil : Broadcasting.sourceIndices(of: a.shape, in: shape)
        let ib = b.shape == shape ? nil : Broadcasting.sourceIndices(of: b.shape, in: shape)
        let n = shape.reduce(1, *)
        let (da, db) = (a.data, b.data)
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n { out[i] = forward(da[ia?[i] ?? i], db[ib?[i] ?? i]) }
        return result(shape: shape, data: out, parents: [a, b]) { output in
            let g = output.grad!, y = output.data
            a.accumulateGradient { ga in
                for i in 0..<n { let j = ia?[i] ?? i; ga[j] += g[i] * gradA(da[j], db[ib?[i] ?? i], y[i]) }
            }
            b.accumulateGradient { gb in
                for i in 0..<n { let j = ib?[i] ?? i; gb[j] += g[i] * gradB(da[ia?[i] ?? i], db[j], y[i]) }
            }
        }
    }

    /// Applies `forward` elementwise; `derivative(x, y)` is dy/dx given input x and output y.
    @inline(__always)
    func unary(_ forward: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let n = count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            data.withUnsafeBufferPointer { x in for i in 0..<n { buffer[i] = forward(x[i]) } }
            initialized = n
        }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let g = output.grad!, y = output.data, x = self.data
            self.accumulateGradient { gx in for i in 0..<n { gx[i] += g[i] * derivative(x[i], y[i]) } }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        if a.shape == b.shape { return sameShapeSum(a, b, sign: 1) }
        return binary(a, b, forward: { $0 + $1 }, gradA: { _, _, _ in 1 }, gradB: { _, _, _ in 1 })
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        if a.shape == b.shape { return sameShapeSum(a, b, sign: -1) }
        return binary(a, b, forward: { $0 - $1 }, gradA: { _, _, _ in 1 }, gradB: { _, _, _ in -1 })
    }

    /// a + sign·b for operands of one shape (residual connections): a vectorised loop forward, and a
    /// backward that adds the upstream gradient directly instead of calling a derivative per element.
    static func sameShapeSum(_ a: Tensor, _ b: Tensor, sign: Float) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    if let o = buffer.baseAddress, let x = pa.baseAddress, let y = pb.baseAddress {
                        for i in 0..<n { o[i] = x[i] + sign * y[i] }
                    }
                }
            }
            initialized = n
        }
        return result(shape: a.shape, data: out, parents: [a, b]) { output in
            let g = output.grad!
            a.accumulateGradient { ga in
                g.withUnsafeBufferPointer { gp in
                    if let d = ga.baseAddress, let s = gp.baseAddress { for i in 0..<n { d[i] += s[i] } }
                }
            }
            b.accumulateGradient { gb in
                g.withUnsafeBufferPointer { gp in
                    if let d = gb.baseAddress, let s = gp.baseAddress { for i in 0..<n { d[i] += sign * s[i] } }
                }
            }
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, forward: { $0 * $1 }, gradA: { _, b, _ in b }, gradB: { a, _, _ in a })
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, forward: { $0 / $1 }, gradA: { _, b, _ in 1 / b }, gradB: { a, b, _ in -a / (b * b) })
    }

    /// Elementwise maximum; the gradient goes to `a` where a ≥ b, else to `b`.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(
            a, b, forward: { Swift.max($0, $1) }, gradA: { a, b, _ in a >= b ? 1 : 0 },
            gradB: { a, b, _ in a >= b ? 0 : 1 })
    }

    /// Elementwise minimum; the gradient goes to `a` where a ≤ b, else to `b`.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(
            a, b, forward: { Swift.min($0, $1) }, gradA: { a, b, _ in a <= b ? 1 : 0 },
            gradB: { a, b, _ in a <= b ? 0 : 1 })
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.unary({ $0 + s }, derivative: { _, _ in 1 }) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.unary({ $0 - s }, derivative: { _, _ in 1 }) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.unary({ $0 * s }, derivative: { _, _ in s }) }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (s: Float, a: Tensor) -> Tensor { a.unary({ s - $0 }, derivative: { _, _ in -1 }) }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static prefix func - (a: Tensor) -> Tensor { a.unary({ -$0 }, derivative: { _, _ in -1 }) }

    public func exp() -> Tensor { vectorUnary(exp16, derivative: { _, y in y }) }
    public func log() -> Tensor { unary({ Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    public func tanh() -> Tensor { vectorUnary(tanh16, derivative: { _, y in 1 - y * y }) }
    public func sigmoid() -> Tensor { vectorUnary({ 1 / (1 + exp16(-$0)) }, derivative: { _, y in y * (1 - y) }) }
    public func relu() -> Tensor { unary({ Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
    public func sqrt() -> Tensor { unary({ $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    public func square() -> Tensor { unary({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func abs() -> Tensor { unary({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }

    /// xᵖ for a constant exponent p.
    public func pow(_ p: Float) -> Tensor {
        unary({ Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }

    /// GELU, tanh form (GPT-2, PyTorch `approximate="tanh"`): 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))).
    /// Fused and vectorised: the forward keeps tanh(·) for the backward,
    /// dy/dx = 0.5(1 + t) + 0.5 x (1 − t²) √(2/π) (1 + 3·0.044715 x²).
    public func gelu() -> Tensor {
        let n = count
        var tanhValues = [Float](repeating: 0, count: 0)
        let out = [Float](unsafeUninitializedCapacity: n) { y, initialized in
            tanhValues = [Float](unsafeUninitializedCapacity: n) { t, tInitialized in
                data.withUnsafeBufferPointer { x in
                    guard n > 0, let xp = x.baseAddress, let tp = t.baseAddress, let yp = y.baseAddress else { return }
                    geluForward(xp, tp, yp, n)
                }
                tInitialized = n
            }
            initialized = n
        }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let x = self.data
            self.accumulateGradient { gx in
                output.grad!.withUnsafeBufferPointer { g in
                    x.withUnsafeBufferPointer { xb in
                        tanhValues.withUnsafeBufferPointer { tb in
                            guard n > 0, let gp = g.baseAddress, let xp = xb.baseAddress, let tp = tb.baseAddress,
                                let gxp = gx.baseAddress
                            else { return }
                            geluBackward(gp, xp, tp, gxp, n)
                        }
                    }
                }
            }
        }
    }

    static let geluScale: Float = 0.797_884_560_802_865_4  // √(2/π)

    /// Applies a vectorised function; `derivative(x, y)` is dy/dx from input and output.
    @inline(__always)
    func vectorUnary(
        _ forward: (SIMD16<Float>) -> SIMD16<Float>, derivative: @escaping (Float, Float) -> Float
    ) -> Tensor {
        let n = count
        var out = [Float](repeating: 0, count: n)
        if n > 0 {
            data.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in map16(x.baseAddress!, y.baseAddress!, n, forward) }
            }
        }
        return Tensor.result(shape: shape, data: out, parents: [self]) { output in
            let g = output.grad!, y = output.data, x = self.data
            self.accumulateGradient { gx in for i in 0..<n { gx[i] += g[i] * derivative(x[i], y[i]) } }
        }
    }

    /// Clamps to [low, high]. The gradient is 1 inside and 0 outside the interval, or 1 everywhere
    /// with `straightThrough` (the straight-through estimator).
    public func clamp(_ low: Float, _ high: Float, straightThrough: Bool = false) -> Tensor {
        precondition(low <= high, "clamp bounds \(low) > \(high)")
        return unary(
            { Swift.min(Swift.max($0, low), high) },
            derivative: { x, _ in
                straightThrough || (x >= low && x <= high) ? 1 : 0
            })
    }

    /// `mask ? a : b` elementwise for tensors of one shape (mask holds 1 or 0). No gradient flows to
    /// `mask`; the unselected side gets zero gradient even where it holds inf or NaN.
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(
            mask.shape == a.shape && a.shape == b.shape, "select shapes \(mask.shape), \(a.shape), \(b.shape) differ")
        let m = mask.data, n = a.count
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n { out[i] = m[i] != 0 ? a.data[i] : b.data[i] }
        return result(shape: a.shape, data: out, parents: [a, b]) { output in
            let g = output.grad!
            a.accumulateGradient { ga in for i in 0..<n where m[i] != 0 { ga[i] += g[i] } }
            b.accumulateGradient { gb in for i in 0..<n where m[i] == 0 { gb[i] += g[i] } }
        }
    }
}
