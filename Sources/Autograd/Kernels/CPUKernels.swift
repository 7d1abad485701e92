import CAllocator
import Synchronization

// The raw-pointer kernels, public for fused ops built in other modules (NN's whole-trunk transformer
// op). They run on the calling thread unless `parallel` says otherwise; callers that split work over
// the kernel threads themselves (`CPUKernels.split`) pass `parallel: false` inside their jobs.
//
// Pointer arguments follow BLAS: row-major matrices with a leading dimension (row stride, in floats).

public enum CPUKernels {
    /// C[M,N] (+)= A[M,K] · B[K,N]; without `accumulate`, C = A·B + `bias` (a row of N) when given.
    @inline(__always)
    public static func matmul(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = false,
        bias: UnsafePointer<Float>? = nil,
        epilogue: GemmEpilogue? = nil
    ) {
        precondition(bias == nil || !accumulate, "matmul adds a bias only when it does not accumulate")
        gemm(
            m: m, n: n, k: k, a: StridedMatrix(base: a, rowStride: lda, columnStride: 1), b: b, ldb: ldb, c: c,
            ldc: ldc,
            accumulate: accumulate, parallel: parallel, bias: bias, epilogue: epilogue)
    }

    /// Floats that `pack(_:ldb:k:n:into:)` writes for a B of [k, n].
    public static func packedCount(k: Int, n: Int) -> Int { Autograd.packedCount(k: k, n: n) }

    /// Packs B [k, n] (row stride ldb) for `matmul(…, packedB:)`: for a B reused across many products.
    /// With `transposed`, `b` holds Bᵀ [n, k] (row stride ldb), as a weight W [out, in] is stored for y = x·Wᵀ.
    public static func pack(
        _ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, transposed: Bool = false,
        into packed: UnsafeMutablePointer<Float>
    ) {
        packWhole(b, ldb: ldb, k: k, n: n, transposed: transposed, into: packed)
    }

    /// `matmul` with B given packed by `pack` (k and n as packed); `epilogue` as in `matmulTransposedB`.
    public static func matmul(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = false,
        bias: UnsafePointer<Float>? = nil, epilogue: GemmEpilogue? = nil
    ) {
        precondition(bias == nil || !accumulate, "matmul adds a bias only when it does not accumulate")
        gemm(
            m: m, n: n, k: k, a: StridedMatrix(base: a, rowStride: lda, columnStride: 1), b: packedB, ldb: n, c: c,
            ldc: ldc,
            accumulate: accumulate, parallel: parallel, bias: bias, packedB: packedB, epilogue: epilogue)
    }

    /// C[M,N] = A · Bᵀ (+ `bias` on every row) with B stored [N, K] (row stride `ldb`): y = x·Wᵀ + b for a
    /// weight W [out, in] as stored (transposed while packed), or C += A · Bᵀ when `accumulate`.
    /// `epilogue`: elementwise work on C done tile by tile as the product finishes it (`GemmEpilogue`).
    public static func matmulTransposedB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = false,
        bias: UnsafePointer<Float>? = nil,
        epilogue: GemmEpilogue? = nil
    ) {
        precondition(bias == nil || !accumulate, "matmul adds a bias only when it does not accumulate")
        gemm(
            m: m, n: n, k: k, a: StridedMatrix(base: a, rowStride: lda, columnStride: 1), b: b, ldb: ldb, c: c,
            ldc: ldc,
            accumulate: accumulate, parallel: parallel, bias: bias, transposedB: true, epilogue: epilogue)
    }

    /// C[M,N] (+)= Aᵀ · B with A stored [K, M] (row stride `lda`) and B [K, N]: a weight gradient dyᵀ·x.
    @inline(__always)
    public static func matmulTransposedA(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = false
    ) {
        gemm(
            m: m, n: n, k: k, a: StridedMatrix(base: a, rowStride: 1, columnStride: lda), b: b, ldb: ldb, c: c,
            ldc: ldc,
            accumulate: accumulate, parallel: parallel)
    }

    /// Prefetch hints for `rows` rows of `width` floats from `base` (row stride `stride`), one per 64-byte line:
    /// for data a kernel will soon read in a pattern the hardware prefetcher does not follow.
    public static func prefetch(rows: Int, width: Int, stride: Int, at base: UnsafePointer<Float>) {
        var row = base
        for _ in 0..<rows {
            var offset = 0
            while offset < width {
                policylab_prefetch(row + offset)
                offset &+= 16
            }
            row += stride
        }
    }

    /// Layer norm of `rows` rows of C (see `Tensor.layerNorm`); keeps x̂ and 1/σ for the backward.
    public static func layerNormForward(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, c: Int,
        epsilon: Float,
        out: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>,
        inverseStd: UnsafeMutablePointer<Float>
    ) {
        Autograd.layerNormForward(
            x, weight: weight, bias: bias, rows: rows, c: c, epsilon: epsilon, out: out, normalized: normalized,
            inverseStd: inverseStd)
    }

    /// Layer-norm backward: dx += …, gγ += Σ dy ⊙ x̂, gβ += Σ dy.
    public static func layerNormBackward(
        _ g: UnsafePointer<Float>, weight: UnsafePointer<Float>, normalized: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>,
        rows: Int, c: Int, inputGradient: UnsafeMutablePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
    ) {
        Autograd.layerNormBackward(
            g, weight: weight, normalized: normalized, inverseStd: inverseStd, rows: rows, c: c,
            inputGradient: inputGradient, weightGradient: weightGradient, biasGradient: biasGradient)
    }

    /// y = GELU(x) (tanh form), t = the tanh kept for the backward.
    public static func geluForward(
        _ x: UnsafePointer<Float>, tanh t: UnsafeMutablePointer<Float>, out y: UnsafeMutablePointer<Float>, count: Int
    ) {
        Autograd.geluForward(x, t, y, count)
    }

    /// gx (+)= g · GELU′(x), from x and the forward's tanh; without `accumulate`, gx may be g (in place).
    public static func geluBackward(
        _ g: UnsafePointer<Float>, x: UnsafePointer<Float>, tanh t: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool
    ) {
        Autograd.geluBackward(g, x, t, inputGradient, count, accumulate: accumulate)
    }

    /// y = GELU(x) (y may be x), keeping GELU′(x) for a backward that multiplies by it (the fused trunk).
    public static func geluForward(
        _ x: UnsafePointer<Float>, derivative: UnsafeMutablePointer<Float>, out y: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        Autograd.geluForwardKeepingDerivative(x, derivative, y, count)
    }

    /// out = a + b over n floats (may alias).
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int
    ) {
        var i = 0
        while i + 16 <= n {
            let v =
                UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                + UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { out[i] = a[i] + b[i]; i += 1 }
    }

    /// sums[j] += Σ_r x[r, j] over `rows` rows of `columns` (a bias gradient). Sixteen columns at a time
    /// down all the rows in two register accumulators (even and odd rows), then the scalar columns: the
    /// row-by-row form stored and reloaded the sums at every row.
    public static func addColumnSums(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>
    ) {
        var j = 0
        while j + 16 <= columns {
            var even = SIMD16<Float>(repeating: 0), odd = SIMD16<Float>(repeating: 0)
            var row = x + j, r = 0
            while r + 2 <= rows {
                even += UnsafeRawPointer(row).loadUnaligned(as: SIMD16<Float>.self)
                odd += UnsafeRawPointer(row + columns).loadUnaligned(as: SIMD16<Float>.self)
                row += 2 * columns
                r += 2
            }
            if r < rows { even += UnsafeRawPointer(row).loadUnaligned(as: SIMD16<Float>.self) }
            let total = UnsafeRawPointer(sums + j).loadUnaligned(as: SIMD16<Float>.self) + (even + odd)
            UnsafeMutableRawPointer(sums + j).storeBytes(of: total, as: SIMD16<Float>.self)
            j += 16
        }
        while j < columns {
            var total: Float = 0
            for r in 0..<rows { total += x[r * columns + j] }
            sums[j] += total
            j += 1
        }
    }

    /// One (sequence, head) of causal attention; see `causalAttentionForward`.
    public static func attentionForward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int,
        headSize: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, outStride: Int, weights: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>,
        firstQuery: Int = 0
    ) {
        causalAttentionForward(
            q: q, k: k, v: v, stride: stride, time: time, headSize: headSize, scale: scale, out: out,
            outStride: outStride,
            weights: weights, scratch: scratch, firstQuery: firstQuery)
    }

    /// One (sequence, head) of the attention backward; see `causalAttentionBackward`.
    public static func attentionBackward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int,
        headSize: Int, scale: Float,
        weights: UnsafePointer<Float>, outGradient: UnsafePointer<Float>, outStride: Int,
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>,
        firstQuery: Int = 0, accumulate: Bool = true
    ) {
        causalAttentionBackward(
            q: q, k: k, v: v, stride: stride, time: time, headSize: headSize, scale: scale, weights: weights,
            outGradient: outGradient, outStride: outStride, dq: dq, dk: dk, dv: dv, scratch: scratch,
            firstQuery: firstQuery,
            accumulate: accumulate)
    }

    /// out[0..<width] (+)= Σ_i coefficients[i · coefficientStride] · rows[i · rowStride + 0..<width].
    public static func weightedRowSum(
        _ coefficients: UnsafePointer<Float>, coefficientStride: Int, count: Int, rows: UnsafePointer<Float>,
        rowStride: Int,
        width: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        Autograd.weightedRowSum(
            coefficients, coefficientStride: coefficientStride, count: count, rows: rows, rowStride: rowStride,
            width: width, into: out, accumulate: accumulate)
    }

    /// Softmax of n floats in place (`RowSoftmax`, the row kernel of `Tensor.softmax`).
    public static func softmax(inPlace x: UnsafeMutablePointer<Float>, count n: Int) {
        _ = RowSoftmax.probabilities(x, into: x, count: n)
    }

    /// Floats of one (sequence, head)'s attention weights (the forward's output, the backward's input).
    public static func attentionWeightsCount(time: Int) -> Int {
        Autograd.attentionWeightsCount(time: time)
    }

    /// Scratch floats for one (sequence, head) of attention.
    public static func attentionScratchCount(time: Int, headSize: Int) -> Int {
        Autograd.attentionScratchCount(time: time, headSize: headSize)
    }

    /// Runs `body(part, range)` for two contiguous halves of `0..<count`: part 0 on the caller, part 1
    /// on the kernel worker (or after part 0 on the caller when the worker is taken). With `count` < 2 or
    /// one core, runs `body(0, 0..<count)` alone. Returns how many parts ran (1 or 2).
    @discardableResult
    public static func split(count: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) -> Int {
        guard count >= 2, let worker = KernelWorker.shared else {
            body(0, 0..<count)
            return 1
        }
        let half = (count + 1) / 2
        withoutActuallyEscaping(body) { escapable in
            if !worker.run({ escapable(1, half..<count) }, alongside: { escapable(0, 0..<half) }) {
                escapable(1, half..<count)
            }
        }
        return 2
    }

    /// Runs `body(part, range)` over `0..<count` cut into chunks of `chunk`, which the caller (part 0)
    /// and the kernel worker (part 1) take in turn from a shared counter until none is left: a thread
    /// that runs slower (another process on its core) takes fewer chunks instead of holding up the step.
    /// Which part runs a chunk depends on timing, so `body` must give the same result whichever part
    /// runs it: write disjoint rows, and keep any sums per chunk, not per part. Returns how many parts ran (1 or 2).
    @discardableResult
    public static func shareChunks(
        count: Int, chunk: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void
    ) -> Int {
        let size = max(1, chunk), chunks = (count + size - 1) / size
        guard chunks >= 2, let worker = KernelWorker.shared else {
            body(0, 0..<count)
            return 1
        }
        let counter = ChunkCounter()
        return withoutActuallyEscaping(body) { escapable in
            let drain = { (part: Int) in
                while true {
                    let c = counter.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if c >= chunks { return }
                    escapable(part, (c * size)..<min(count, (c + 1) * size))
                }
            }
            return worker.run({ drain(1) }, alongside: { drain(0) }) ? 2 : 1
        }
    }
}

/// The next chunk of a `shareChunks` call.
private final class ChunkCounter: Sendable {
    let next = Atomic<Int>(0)
}

extension Tensor {
    /// Records a fused op defined outside this module: `backward` reads the output's gradient and adds
    /// into the parents' (with `addToGradient`). Recorded only when gradients are on and a parent needs them.
    public static func recorded(
        shape: [Int], data: [Float], parents: [Tensor], backward: @escaping (Tensor) -> Void
    ) -> Tensor {
        result(shape: shape, data: data, parents: parents, backward: backward)
    }

    /// Adds into this tensor's gradient through a pointer (zeros allocated on first use); nothing when it
    /// does not require gradients.
    public func addToGradient(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        accumulateGradient(body)
    }

    /// This rank-2 tensor's transpose [columns, rows], cached for leaves while their data is unchanged.
    public func transposedMatrix() -> [Float] { transposedData() }
}
