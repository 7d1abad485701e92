// Single-precision matrix multiply: C[M,N] (+)= A·B, with A read through arbitrary strides so the same
// kernel serves A·B and Aᵀ·B (the weight gradient), and B row-major contiguous along N.
//
// Design after BLIS / PLATFORM.md: an 8×32 register tile (16 SIMD16 accumulators, two B vectors,
// one broadcast of A per row) updated with fused multiply-adds (`addingProduct`, which lowers to
// `vfmadd…ps` with `-target-cpu native`), K blocked by 256 and N by 256 so the B panel stays in L2.
// B is not packed: at this project's sizes (K, N ≤ 512) its rows are already L2-resident.

typealias FloatPointer = UnsafeMutablePointer<Float>
typealias ConstFloatPointer = UnsafePointer<Float>

@inline(__always)
private func load16(_ p: ConstFloatPointer) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store16(_ v: SIMD16<Float>, _ p: FloatPointer) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Strided view of A: A(i, k) = base[i * rowStride + k * columnStride].
struct StridedMatrix {
    let base: ConstFloatPointer
    let rowStride: Int
    let columnStride: Int
}

/// C[M,N] = A·B (or += when `accumulate`). `ldb`, `ldc`: row strides of B and C. `parallel`: split
/// the rows of C over the kernel threads when the product is large enough (off inside a job that
/// already runs on one of them).
func gemm(
    m: Int, n: Int, k: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int,
    accumulate: Bool, parallel: Bool = true
) {
    if !accumulate {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
    }
    if m == 0 || n == 0 || k == 0 { return }
    if !parallel {
        gemmRows(0..<m, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc)
        return
    }
    let shared = UncheckedSendable((a, b, c))
    parallelChunks(count: m, granularity: 8, work: m * n * k, threshold: 1 << 19) { rows in
        let (a, b, c) = shared.value
        gemmRows(rows, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc)
    }
}

private let blockK = 256
private let blockN = 256

private func gemmRows(
    _ rows: Range<Int>, n: Int, k: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int
) {
    var jc = 0
    while jc < n {
        let nc = min(blockN, n - jc)
        var pc = 0
        while pc < k {
            let kc = min(blockK, k - pc)
            var i = rows.lowerBound
            while i + 8 <= rows.upperBound {
                var j = jc
                while j + 32 <= jc + nc {
                    kernel8x32(i: i, j: j, p0: pc, kc: kc, a: a, b: b, ldb: ldb, c: c, ldc: ldc)
                    j += 32
                }
                while j < jc + nc {
                    for r in i..<(i + 8) { kernelRow(i: r, j: j, width: min(16, jc + nc - j), p0: pc, kc: kc, a: a, b: b, ldb: ldb, c: c, ldc: ldc) }
                    j += 16
                }
                i += 8
            }
            while i < rows.upperBound {
                var j = jc
                while j < jc + nc {
                    kernelRow(i: i, j: j, width: min(16, jc + nc - j), p0: pc, kc: kc, a: a, b: b, ldb: ldb, c: c, ldc: ldc)
                    j += 16
                }
                i += 1
            }
            pc += kc
        }
        jc += nc
    }
}

/// The 8×32 register tile: C[i..i+8, j..j+32] += A[i..i+8, p0..p0+kc] · B[p0..p0+kc, j..j+32].
@inline(__always)
private func kernel8x32(
    i: Int, j: Int, p0: Int, kc: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int
) {
    let c0 = c + i * ldc + j
    var c00 = load16(c0), c01 = load16(c0 + 16)
    var c10 = load16(c0 + ldc), c11 = load16(c0 + ldc + 16)
    var c20 = load16(c0 + 2 * ldc), c21 = load16(c0 + 2 * ldc + 16)
    var c30 = load16(c0 + 3 * ldc), c31 = load16(c0 + 3 * ldc + 16)
    var c40 = load16(c0 + 4 * ldc), c41 = load16(c0 + 4 * ldc + 16)
    var c50 = load16(c0 + 5 * ldc), c51 = load16(c0 + 5 * ldc + 16)
    var c60 = load16(c0 + 6 * ldc), c61 = load16(c0 + 6 * ldc + 16)
    var c70 = load16(c0 + 7 * ldc), c71 = load16(c0 + 7 * ldc + 16)
    let rs = a.rowStride, cs = a.columnStride
    var ap = a.base + i * rs + p0 * cs
    var bp = b + p0 * ldb + j
    for _ in 0..<kc {
        let b0 = load16(bp), b1 = load16(bp + 16)
        var s = SIMD16<Float>(repeating: ap[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[rs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[2 * rs])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[3 * rs])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[4 * rs])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[5 * rs])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[6 * rs])
        c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[7 * rs])
        c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
        ap += cs
        bp += ldb
    }
    store16(c00, c0); store16(c01, c0 + 16)
    store16(c10, c0 + ldc); store16(c11, c0 + ldc + 16)
    store16(c20, c0 + 2 * ldc); store16(c21, c0 + 2 * ldc + 16)
    store16(c30, c0 + 3 * ldc); store16(c31, c0 + 3 * ldc + 16)
    store16(c40, c0 + 4 * ldc); store16(c41, c0 + 4 * ldc + 16)
    store16(c50, c0 + 5 * ldc); store16(c51, c0 + 5 * ldc + 16)
    store16(c60, c0 + 6 * ldc); store16(c61, c0 + 6 * ldc + 16)
    store16(c70, c0 + 7 * ldc); store16(c71, c0 + 7 * ldc + 16)
}

/// One row, up to 16 columns: the edge of the tile.
@inline(__always)
private func kernelRow(
    i: Int, j: Int, width: Int, p0: Int, kc: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer,
    ldc: Int
) {
    let cp = c + i * ldc + j
    var ap = a.base + i * a.rowStride + p0 * a.columnStride
    var bp = b + p0 * ldb + j
    if width == 16 {
        var acc = load16(cp)
        for _ in 0..<kc {
            acc = acc.addingProduct(SIMD16<Float>(repeating: ap[0]), load16(bp))
            ap += a.columnStride
            bp += ldb
        }
        store16(acc, cp)
        return
    }
    var acc = [Float](repeating: 0, count: width)
    for _ in 0..<kc {
        let s = ap[0]
        for w in 0..<width { acc[w] += s * bp[w] }
        ap += a.columnStride
        bp += ldb
    }
    for w in 0..<width { cp[w] += acc[w] }
}

/// Out-of-place transpose of a row-major [rows, columns] matrix into [columns, rows].
func transpose(_ source: ConstFloatPointer, rows: Int, columns: Int, into destination: FloatPointer) {
    let tile = 16
    var r0 = 0
    while r0 < rows {
        var c0 = 0
        while c0 < columns {
            for r in r0..<min(r0 + tile, rows) {
                for c in c0..<min(c0 + tile, columns) {
                    destination[c * rows + r] = source[r * columns + c]
                }
            }
            c0 += tile
        }
        r0 += tile
    }
}
