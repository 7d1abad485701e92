// Matrix products with their backward passes, on the packed SIMD kernel in Kernels/Gemm.swift.

extension Tensor {
    /// a·b for a [M, K] · b [K, N] → [M, N]; a [B, M, K] · b [B, K, N] → [B, M, N] (batched);
    /// a [..., M, K] · b [K, N] → [..., M, N] (the leading axes of `a` fold into M).
    public func matmul(_ b: Tensor) -> Tensor {
        let a = self
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let k = a.shape[a.rank - 1]
        precondition(b.shape[b.rank - 2] == k, "matmul inner sizes differ: \(a.shape) · \(b.shape)")
        let n = b.shape[b.rank - 1]
        if b.rank == 2 {
            let m = a.count / k
            var out = [Float](repeating: 0, count: m * n)
            Tensor.gemmNN(m: m, n: n, k: k, a: a.data, b: b.data, into: &out, accumulate: false)
            return Tensor.result(shape: Array(a.shape.dropLast()) + [n], data: out, parents: [a, b]) { output in
                let g = output.grad!
                // dA = dC · Bᵀ  [M,N]·[N,K]; dB = Aᵀ · dC  [K,M]·[M,N]
                if a.requiresGrad {
                    var bt = [Float](repeating: 0, count: k * n)
                    b.data.withUnsafeBufferPointer { src in
                        bt.withUnsafeMutableBufferPointer { dst in
                            transpose(src.baseAddress!, rows: k, columns: n, into: dst.baseAddress!)
                        }
                    }
                    a.accumulateGradient { ga in
                        Tensor.gemmNN(m: m, n: k, k: n, a: g, b: bt, into: ga, accumulate: true)
                    }
                }
                if b.requiresGrad {
                    b.accumulateGradient { gb in
                        Tensor.gemmTN(m: k, n: n, k: m, a: a.data, b: g, into: gb, accumulate: true)
                    }
                }
            }
        }
        precondition(
            a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0],
            "batched matmul needs [B,M,K]·[B,K,N], got \(a.shape) · \(b.shape)")
        let batch = a.shape[0], m = a.shape[1]
        var out = [Float](repeating: 0, count: batch * m * n)
        for i in 0..<batch {
            let aPart = Array(a.data[(i * m * k)..<((i + 1) * m * k)])
            let bPart = Array(b.data[(i * k * n)..<((i + 1) * k * n)])
            var cPart = [Float](repeating: 0, count: m * n)
            Tensor.gemmNN(m: m, n: n, k: k, a: aPart, b: bPart, into: &cPart, accumulate: false)
            out.replaceSubrange((i * m * n)..<((i + 1) * m * n), with: cPart)
        }
        return Tensor.result(shape: [batch, m, n], data: out, parents: [a, b]) { output in
            let g = output.grad!
            for i in 0..<batch {
                let gPart = Array(g[(i * m * n)..<((i + 1) * m * n)])
                if a.requiresGrad {
                    let bPart = Array(b.data[(i * k * n)..<((i + 1) * k * n)])
                    var bt = [Float](repeating: 0, count: k * n)
                    bPart.withUnsafeBufferPointer { src in
                        bt.withUnsafeMutableBufferPointer { dst in
                            transpose(src.baseAddress!, rows: k, columns: n, into: dst.baseAddress!)
                        }
                    }
                    var ga = [Float](repeating: 0, count: m * k)
                    Tensor.gemmNN(m: m, n: k, k: n, a: gPart, b: bt, into: &ga, accumulate: false)
                    a.accumulateGradient { dst in for j in 0..<(m * k) { dst[i * m * k + j] += ga[j] } }
                }
                if b.requiresGrad {
                    let aPart = Array(a.data[(i * m * k)..<((i + 1) * m * k)])
                    var gb = [Float](repeating: 0, count: k * n)
                    Tensor.gemmTN(m: k, n: n, k: m, a: aPart, b: gPart, into: &gb, accumulate: false)
                    b.accumulateGradient { dst in for j in 0..<(k * n) { dst[i * k * n + j] += gb[j] } }
                }
            }
        }
    }

    /// A fully connected layer as PyTorch's `Linear`: x [..., in] · weightᵀ (weight [out, in]) + bias [out].
    /// One fused op: forward and backward run on the gemm kernel without materialising the graph of
    /// transpose, matmul and broadcast-add.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        precondition(
            x.shape.last == inFeatures, "linear input \(x.shape) does not end in \(inFeatures) (weight \(weight.shape))"
        )
        if let bias {
            precondition(bias.shape == [outFeatures], "linear bias \(bias.shape) should be [\(outFeatures)]")
        }
        let rows = x.count / Swift.max(inFeatures, 1)
        // Wᵀ [in, out] so the forward pass is a plain A·B.
        let weightT = weight.transposedData()
        let out = [Float](unsafeUninitializedCapacity: rows * outFeatures) { buffer, initialized in
            let destination = buffer.baseAddress
            x.data.withUnsafeBufferPointer { xp in
                weightT.withUnsafeBufferPointer { wp in
                    func compute(_ biasPointer: UnsafePointer<Float>?) {
                        gemm(
                            m: rows, n: outFeatures, k: inFeatures,
                            a: StridedMatrix(base: xp.baseAddress!, rowStride: inFeatures, columnStride: 1),
                            b: wp.baseAddress!, ldb: outFeatures, c: destination!, ldc: outFeatures, accumulate: false,
                            bias: biasPointer)
                    }
                    if rows * outFeatures > 0 {
                        if let bias {
                            bias.data.withUnsafeBufferPointer { compute($0.baseAddress!) }
                        } else {
                            compute(nil)
                        }
                    }
                }
            }
            initialized = rows * outFeatures
        }
        let parents = bias.map { [x, weight, $0] } ?? [x, weight]
        return result(shape: Array(x.shape.dropLast()) + [outFeatures], data: out, parents: parents) { output in
            let g = output.grad!
            if x.requiresGrad {
                // dx [rows, in] = dy [rows, out] · W [out, in]
                x.accumulateGradient { gx in
                    gemmNN(m: rows, n: inFeatures, k: outFeatures, a: g, b: weight.data, into: gx, accumulate: true)
                }
            }
            if weight.requiresGrad {
                // dW [out, in] = dyᵀ [out, rows] · x [rows, in]
                weight.accumulateGradient { gw in
                    gemmTN(m: outFeatures, n: inFeatures, k: rows, a: g, b: x.data, into: gw, accumulate: true)
                }
            }
            if let bias, bias.requiresGrad {
                bias.accumulateGradient { gb in
                    g.withUnsafeBufferPointer { gy in
                        for r in 0..<rows {
                            let row = gy.baseAddress! + r * outFeatures
                            for j in 0..<outFeatures { gb[j] += row[j] }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Kernel entry points on Swift arrays

    /// C[M,N] (+)= A[M,K] · B[K,N].
    static func gemmNN(m: Int, n: Int, k: Int, a: [Float], b: [Float], into c: inout [Float], accumulate: Bool) {
        c.withUnsafeMutableBufferPointer { cp in gemmNN(m: m, n: n, k: k, a: a, b: b, into: cp, accumulate: accumulate)
        }
    }

    static func gemmNN(
        m: Int, n: Int, k: Int, a: [Float], b: [Float], into c: UnsafeMutableBufferPointer<Float>, accumulate: Bool
    ) {
        if m == 0 || n == 0 || k == 0 {
            if !accumulate { for i in 0..<(m * n) { c[i] = 0 } }
            return
        }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                gemm(
                    m: m, n: n, k: k, a: StridedMatrix(base: ap.baseAddress!, rowStride: k, columnStride: 1),
                    b: bp.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n, accumulate: accumulate)
            }
        }
    }

    /// C[M,N] (+)= Aᵀ · B where A is stored [K, M] and B [K, N].
    static func gemmTN(m: Int, n: Int, k: Int, a: [Float], b: [Float], into c: inout [Float], accumulate: Bool) {
        c.withUnsafeMutableBufferPointer { cp in gemmTN(m: m, n: n, k: k, a: a, b: b, into: cp, accumulate: accumulate)
        }
    }

    static func gemmTN(
        m: Int, n: Int, k: Int, a: [Float], b: [Float], into c: UnsafeMutableBufferPointer<Float>, accumulate: Bool
    ) {
        if m == 0 || n == 0 || k == 0 {
            if !accumulate { for i in 0..<(m * n) { c[i] = 0 } }
            return
        }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                gemm(
                    m: m, n: n, k: k, a: StridedMatrix(base: ap.baseAddress!, rowStride: 1, columnStride: m),
                    b: bp.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n, accumulate: accumulate)
            }
        }
    }
}

/// Raw single-precision products for benchmarks and kernels outside the tape.
public enum MatrixKernels {
    /// C[M,N] = A[M,K] · B[K,N], all row-major.
    public static func multiply(m: Int, n: Int, k: Int, a: [Float], b: [Float], into c: inout [Float]) {
        Tensor.gemmNN(m: m, n: n, k: k, a: a, b: b, into: &c, accumulate: false)
    }
}
