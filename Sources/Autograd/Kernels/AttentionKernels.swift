// Causal self-attention of one (sequence, head) pair on raw pointers, forward and backward
// (Vaswani et al. 2017 §3.2; llm.c `attention_forward` / `attention_backward`), vectorised along the
// query axis t: every T × T table is stored key-major, table[u · T₁₆ + t] (T₁₆ = T rounded up to 16),
// so that the softmax over the keys u of sixteen queries at once is elementwise work across rows (a
// running max, a running sum), with no horizontal reduction per query; and each product with q, k,
// v or their gradients is a register tile of eight rows (`weightedRowSums8`) over a packed transpose.
// (The query-major form it replaced spent most of its time on per-row horizontal max/sum chains and
// single-row dot products: attention was 14 % of a GPT S step, perf.)
//
// Legend: T time, D head size, u ≤ t the visible keys of query t, P = T₁₆. Row strides are in floats,
// so a head's q, k and v can be read in place from a fused (B, T, 3C) projection.
//   forward:  s[t,u] = q_t·k_u·scale (u ≤ t), a[t,·] = softmax(s[t,·]), o_t = Σ_u a[t,u] v_u
//   backward: dv_u = Σ_{t≥u} a[t,u] do_t;  da[t,u] = do_t·v_u;  ds = a ⊙ (da − Σ_u a⊙da)·scale;
//             dq_t = Σ_u ds[t,u] k_u;  dk_u = Σ_{t≥u} ds[t,u] q_t

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// T rounded up to a multiple of 16: the row stride of every attention table.
@inline(__always)
private func paddedTime(_ time: Int) -> Int { (time + 15) / 16 * 16 }

/// Floats of one (sequence, head)'s attention weights as the forward leaves them for the backward:
/// T key rows of T₁₆ query columns, a[t, u] at [u · T₁₆ + t], zero where u > t, t < the first query or t ≥ T.
public func attentionWeightsCount(time: Int) -> Int { time * paddedTime(time) }

/// Scratch floats one (sequence, head) pair needs: a packed transpose [D, T₁₆], a T × T₁₆ table (scores,
/// then gradients), a chunk's maxima and totals and the three 32-float lane-mask tables.
public func attentionScratchCount(time: Int, headSize: Int) -> Int {
    let padded = paddedTime(time)
    return headSize * padded + time * padded + 32 + 96
}

/// The scratch regions of one (sequence, head), in `attentionScratchCount`'s layout.
private struct AttentionScratch {
    /// [D, T₁₆]: queries · scale (forward) or output gradients (backward), transposed.
    let packed: UnsafeMutablePointer<Float>
    let table: UnsafeMutablePointer<Float>  // [T, T₁₆]: scores → exponentials (forward), da → ds (backward)
    let perChunk: UnsafeMutablePointer<Float>  // 32: a chunk's 16 maxima, then its 16 totals
    let masks: UnsafeMutablePointer<Float>  // 96: see `fillMaskTables`

    @inline(__always)
    init(_ scratch: UnsafeMutablePointer<Float>, time: Int, headSize: Int) {
        let padded = paddedTime(time)
        packed = scratch
        table = scratch + headSize * padded
        perChunk = table + time * padded
        masks = perChunk + 32
    }
}

/// Lane masks as table loads (per-lane stores of mixed sizes defeat store-to-load forwarding): loading
/// 16 floats at offset 16 − j of
/// - `masks + 0`  = [−∞ ×16, 0 ×16] gives −∞ in lanes l < j (added to scores),
/// - `masks + 32` = [0 ×16, 1 ×16] gives 0 in lanes l < j (multiplied in),
/// - `masks + 64` = [1 ×16, 0 ×16] gives 1 in lanes l < j and 0 from lane j on.
@inline(__always)
private func fillMaskTables(_ masks: UnsafeMutablePointer<Float>) {
    for l in 0..<16 {
        masks[l] = -.infinity
        masks[16 + l] = 0
        masks[32 + l] = 0
        masks[48 + l] = 1
        masks[64 + l] = 1
        masks[80 + l] = 0
    }
}

/// out[0..<width] (+)= Σ_i coefficient[i · coefficientStride] · rows[i · rowStride + 0..<width].
/// The sum over i runs in registers for each 16-wide (then 8-wide, then scalar) column chunk, in four
/// interleaved accumulators (one chain would wait on the FMA latency at every term).
@inline(__always)
func weightedRowSum(
    _ coefficients: UnsafePointer<Float>, coefficientStride: Int, count: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    var d = 0
    while d + 16 <= width {
        var a0 = accumulate ? load16(out + d) : SIMD16<Float>(repeating: 0)
        var a1 = SIMD16<Float>(repeating: 0), a2 = SIMD16<Float>(repeating: 0), a3 = SIMD16<Float>(repeating: 0)
        var cp = coefficients, rp = rows + d, i = 0
        while i + 4 <= count {
            a0 = a0.addingProduct(SIMD16(repeating: cp[0]), load16(rp))
            a1 = a1.addingProduct(SIMD16(repeating: cp[coefficientStride]), load16(rp + rowStride))
            a2 = a2.addingProduct(SIMD16(repeating: cp[2 &* coefficientStride]), load16(rp + 2 &* rowStride))
            a3 = a3.addingProduct(SIMD16(repeating: cp[3 &* coefficientStride]), load16(rp + 3 &* rowStride))
            cp += 4 &* coefficientStride
            rp += 4 &* rowStride
            i &+= 4
        }
        while i < count {
            a0 = a0.addingProduct(SIMD16(repeating: cp[0]), load16(rp))
            cp += coefficientStride
            rp += rowStride
            i &+= 1
        }
        store16((a0 + a1) + (a2 + a3), out + d)
        d += 16
    }
    if d + 8 <= width {
        var a0 = accumulate ? load8(out + d) : SIMD8<Float>(repeating: 0)
        var a1 = SIMD8<Float>(repeating: 0)
        var cp = coefficients, rp = rows + d, i = 0
        while i + 2 <= count {
            a0 = a0.addingProduct(SIMD8(repeating: cp[0]), load8(rp))
            a1 = a1.addingProduct(SIMD8(repeating: cp[coefficientStride]), load8(rp + rowStride))
            cp += 2 &* coefficientStride
            rp += 2 &* rowStride
            i &+= 2
        }
        if i < count { a0 = a0.addingProduct(SIMD8(repeating: cp[0]), load8(rp)) }
        store8(a0 + a1, out + d)
        d += 8
    }
    while d < width {
        var acc: Float = accumulate ? out[d] : 0
        for i in 0..<count { acc += coefficients[i &* coefficientStride] * rows[i &* rowStride &+ d] }
        out[d] = acc
        d += 1
    }
}

/// Eight weighted row sums sharing their row loads (a register tile of 8 outputs × 16 columns):
/// out[r · outStride + 0..<width] (+)= Σ_{i<count} coefficients[r · rowStep + i · termStep] · rows[i · rowStride +
/// 0..<width]
/// for r in 0..<8; `width` a multiple of 16. One vector load of a row feeds eight FMAs (the single-row
/// form spends two loads per FMA). The tile follows the vector registers (`KernelPath.swift`): 8 × 16 columns of
/// SIMD16 accumulators with AVX-512's 32 zmm registers; on AVX2's 16 ymm registers and NEON, two passes of 4 rows ×
/// 16 columns in SIMD8 pairs (`weightedRowSums8As4x16`; the 8 × 16 tile is 16 ymm accumulators there, and
/// spilled). Each output is the same chain of FMAs over i either way.
@inline(__always)
private func weightedRowSums8(
    _ coefficients: UnsafePointer<Float>, rowStep: Int, termStep: Int, count: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    #if POLICYLAB_AVX512
    weightedRowSums8x16(
        coefficients, rowStep: rowStep, termStep: termStep, count: count, rows: rows, rowStride: rowStride,
        width: width, into: out, outStride: outStride, accumulate: accumulate)
    #else
    weightedRowSums8As4x16(
        coefficients, rowStep: rowStep, termStep: termStep, count: count, rows: rows, rowStride: rowStride,
        width: width, into: out, outStride: outStride, accumulate: accumulate)
    #endif
}

/// `weightedRowSums8` as two passes of 4 rows × 16 columns, each row's 16 columns in a pair of SIMD8 accumulators
/// (AVX2 and NEON): 8 accumulators, the row's two halves and a broadcast fit AVX2's 16 ymm registers, and each
/// broadcast coefficient feeds two FMAs, where the 8 × 8 tile broadcasts every coefficient once per 8 columns
/// (at the attention's D = 16: 16 broadcasts and 2 row loads per term, here 8 and 4). Columns past the last
/// multiple of 16 go to the 8 × 8 tile. Each output is the same chain of FMAs over i as in either tile.
@inline(__always)
func weightedRowSums8As4x16(
    _ coefficients: UnsafePointer<Float>, rowStep: Int, termStep: Int, count: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    let o1 = rowStep, o2 = 2 &* rowStep, o3 = 3 &* rowStep
    let wide = width / 16 * 16
    for pass in 0..<2 {
        let first = coefficients + pass &* 4 &* rowStep, output = out + pass &* 4 &* outStride
        var d = 0
        while d < wide {
            let zero = SIMD8<Float>(repeating: 0)
            let t0 = output + d, t1 = t0 + outStride, t2 = t0 + 2 &* outStride, t3 = t0 + 3 &* outStride
            var c0 = accumulate ? load8(t0) : zero, e0 = accumulate ? load8(t0 + 8) : zero
            var c1 = accumulate ? load8(t1) : zero, e1 = accumulate ? load8(t1 + 8) : zero
            var c2 = accumulate ? load8(t2) : zero, e2 = accumulate ? load8(t2 + 8) : zero
            var c3 = accumulate ? load8(t3) : zero, e3 = accumulate ? load8(t3 + 8) : zero
            var cp = first, rp = rows + d
            for _ in 0..<count {
                let low = load8(rp), high = load8(rp + 8)
                var s = SIMD8<Float>(repeating: cp[0])
                c0 = c0.addingProduct(s, low); e0 = e0.addingProduct(s, high)
                s = SIMD8<Float>(repeating: cp[o1])
                c1 = c1.addingProduct(s, low); e1 = e1.addingProduct(s, high)
                s = SIMD8<Float>(repeating: cp[o2])
                c2 = c2.addingProduct(s, low); e2 = e2.addingProduct(s, high)
                s = SIMD8<Float>(repeating: cp[o3])
                c3 = c3.addingProduct(s, low); e3 = e3.addingProduct(s, high)
                cp += termStep
                rp += rowStride
            }
            store8(c0, t0); store8(e0, t0 + 8)
            store8(c1, t1); store8(e1, t1 + 8)
            store8(c2, t2); store8(e2, t2 + 8)
            store8(c3, t3); store8(e3, t3 + 8)
            d &+= 16
        }
    }
    if wide < width {
        weightedRowSums8x8(
            coefficients, rowStep: rowStep, termStep: termStep, count: count, rows: rows + wide, rowStride: rowStride,
            width: width - wide, into: out + wide, outStride: outStride, accumulate: accumulate)
    }
}

/// `weightedRowSums8` in 16-column steps (SIMD16 accumulators).
@inline(__always)
func weightedRowSums8x16(
    _ coefficients: UnsafePointer<Float>, rowStep: Int, termStep: Int, count: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    let o1 = rowStep, o2 = 2 &* rowStep, o3 = 3 &* rowStep, o4 = 4 &* rowStep, o5 = 5 &* rowStep, o6 = 6 &* rowStep,
        o7 = 7 &* rowStep
    var d = 0
    while d < width {
        let zero = SIMD16<Float>(repeating: 0)
        let target = out + d
        var c0 = accumulate ? load16(target) : zero, c1 = accumulate ? load16(target + outStride) : zero
        var c2 = accumulate ? load16(target + 2 &* outStride) : zero,
            c3 = accumulate ? load16(target + 3 &* outStride) : zero
        var c4 = accumulate ? load16(target + 4 &* outStride) : zero,
            c5 = accumulate ? load16(target + 5 &* outStride) : zero
        var c6 = accumulate ? load16(target + 6 &* outStride) : zero,
            c7 = accumulate ? load16(target + 7 &* outStride) : zero
        var cp = coefficients, rp = rows + d
        for _ in 0..<count {
            let r = load16(rp)
            c0 = c0.addingProduct(SIMD16(repeating: cp[0]), r)
            c1 = c1.addingProduct(SIMD16(repeating: cp[o1]), r)
            c2 = c2.addingProduct(SIMD16(repeating: cp[o2]), r)
            c3 = c3.addingProduct(SIMD16(repeating: cp[o3]), r)
            c4 = c4.addingProduct(SIMD16(repeating: cp[o4]), r)
            c5 = c5.addingProduct(SIMD16(repeating: cp[o5]), r)
            c6 = c6.addingProduct(SIMD16(repeating: cp[o6]), r)
            c7 = c7.addingProduct(SIMD16(repeating: cp[o7]), r)
            cp += termStep
            rp += rowStride
        }
        store16(c0, target); store16(c1, target + outStride)
        store16(c2, target + 2 &* outStride); store16(c3, target + 3 &* outStride)
        store16(c4, target + 4 &* outStride); store16(c5, target + 5 &* outStride)
        store16(c6, target + 6 &* outStride); store16(c7, target + 7 &* outStride)
        d &+= 16
    }
}

/// `weightedRowSums8` in 8-column steps (SIMD8 accumulators).
@inline(__always)
func weightedRowSums8x8(
    _ coefficients: UnsafePointer<Float>, rowStep: Int, termStep: Int, count: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    let o1 = rowStep, o2 = 2 &* rowStep, o3 = 3 &* rowStep, o4 = 4 &* rowStep, o5 = 5 &* rowStep, o6 = 6 &* rowStep,
        o7 = 7 &* rowStep
    var d = 0
    while d < width {
        let zero = SIMD8<Float>(repeating: 0)
        let target = out + d
        var c0 = accumulate ? load8(target) : zero, c1 = accumulate ? load8(target + outStride) : zero
        var c2 = accumulate ? load8(target + 2 &* outStride) : zero,
            c3 = accumulate ? load8(target + 3 &* outStride) : zero
        var c4 = accumulate ? load8(target + 4 &* outStride) : zero,
            c5 = accumulate ? load8(target + 5 &* outStride) : zero
        var c6 = accumulate ? load8(target + 6 &* outStride) : zero,
            c7 = accumulate ? load8(target + 7 &* outStride) : zero
        var cp = coefficients, rp = rows + d
        for _ in 0..<count {
            let r = load8(rp)
            c0 = c0.addingProduct(SIMD8(repeating: cp[0]), r)
            c1 = c1.addingProduct(SIMD8(repeating: cp[o1]), r)
            c2 = c2.addingProduct(SIMD8(repeating: cp[o2]), r)
            c3 = c3.addingProduct(SIMD8(repeating: cp[o3]), r)
            c4 = c4.addingProduct(SIMD8(repeating: cp[o4]), r)
            c5 = c5.addingProduct(SIMD8(repeating: cp[o5]), r)
            c6 = c6.addingProduct(SIMD8(repeating: cp[o6]), r)
            c7 = c7.addingProduct(SIMD8(repeating: cp[o7]), r)
            cp += termStep
            rp += rowStride
        }
        store8(c0, target); store8(c1, target + outStride)
        store8(c2, target + 2 &* outStride); store8(c3, target + 3 &* outStride)
        store8(c4, target + 4 &* outStride); store8(c5, target + 5 &* outStride)
        store8(c6, target + 6 &* outStride); store8(c7, target + 7 &* outStride)
        d &+= 8
    }
}

/// Packs rows `rows` of `width` floats (row stride `stride`) transposed and scaled: packed[d · padded + t]
/// = scale · source[t · stride + d]; columns from `rows.upperBound` to `padded` are zero, and from
/// 16·⌊rows.lowerBound / 16⌋ to `rows.lowerBound` too (columns below that are never read).
/// Walked row by row with pointer bumps (indexing `source[u · stride + d]` kept an overflow-checked
/// multiply per element, perf).
@inline(__always)
private func packTransposed(
    _ source: UnsafePointer<Float>, stride: Int, rows: Range<Int>, width: Int, padded: Int, scale: Float,
    into packed: UnsafeMutablePointer<Float>
) {
    let chunkStart = rows.lowerBound / 16 * 16
    if chunkStart < rows.lowerBound {
        for d in 0..<width {
            (packed + d &* padded + chunkStart).update(repeating: 0, count: rows.lowerBound &- chunkStart)
        }
    }
    var row = source + rows.lowerBound * stride
    for t in rows {
        var destination = packed + t
        for d in 0..<width {
            destination.pointee = row[d] * scale
            destination += padded
        }
        row += stride
    }
    if rows.upperBound < padded {
        for d in 0..<width {
            (packed + d &* padded + rows.upperBound).update(repeating: 0, count: padded &- rows.upperBound)
        }
    }
}

/// table[u · padded + t] = Σ_d x[u · stride + d] · packed[d · padded + t] for keys u < time and the
/// query chunks from max(⌊u/16⌋, firstChunk) on (the chunks where some query t ≥ u can see key u):
/// scores (x = k, packed = scaled qᵀ) and da (x = v, packed = doᵀ), eight key rows per register tile.
@inline(__always)
private func keyRowsTimesPacked(
    _ x: UnsafePointer<Float>, stride: Int, time: Int, width: Int, packed: UnsafePointer<Float>, padded: Int,
    firstChunk: Int, into table: UnsafeMutablePointer<Float>
) {
    var u0 = 0
    while u0 < time {
        let c0 = max(u0 / 16, firstChunk), columns = padded - 16 * c0
        let target = table + u0 * padded + 16 * c0, source = packed + 16 * c0
        if u0 + 8 <= time {
            weightedRowSums8(
                x + u0 * stride, rowStep: stride, termStep: 1, count: width, rows: source, rowStride: padded,
                width: columns, into: target, outStride: padded, accumulate: false)
        } else {
            for r in 0..<(time - u0) {
                weightedRowSum(
                    x + (u0 + r) * stride, coefficientStride: 1, count: width, rows: source, rowStride: padded,
                    width: columns, into: target + r * padded, accumulate: false)
            }
        }
        u0 += 8
    }
}

/// out_t (+)= Σ_u C[u · padded + t] · rows_u for queries t in first..<time, over u ≤ t (C key-major and
/// zero where u > t): the attention output (C = a, rows v) and dq (C = ds, rows k). Eight queries per
/// register tile when `width` is a multiple of 16 (each tile runs its terms to its last query's diagonal).
@inline(__always)
private func queriesTimesRows(
    _ coefficients: UnsafePointer<Float>, padded: Int, time: Int, first: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    var t0 = first
    if width % 16 == 0 {
        while t0 + 8 <= time {
            weightedRowSums8(
                coefficients + t0, rowStep: 1, termStep: padded, count: t0 + 8, rows: rows, rowStride: rowStride,
                width: width, into: out + t0 * outStride, outStride: outStride, accumulate: accumulate)
            t0 += 8
        }
    }
    for t in t0..<time {
        weightedRowSum(
            coefficients + t, coefficientStride: padded, count: t + 1, rows: rows, rowStride: rowStride, width: width,
            into: out + t * outStride, accumulate: accumulate)
    }
}

/// out_u += Σ_{t ≥ max(u, first)} C[u · padded + t] · rows_t for keys u < time (C key-major and zero
/// where t < u): dk (C = ds, rows q) and dv (C = a, rows do). Eight keys per register tile when `width`
/// is a multiple of 16 (each tile's terms start at its first key's diagonal); `accumulate` false overwrites.
@inline(__always)
private func keysTimesRows(
    _ coefficients: UnsafePointer<Float>, padded: Int, time: Int, first: Int, rows: UnsafePointer<Float>,
    rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    var u0 = 0
    if width % 16 == 0 {
        while u0 + 8 <= time {
            let start = max(u0, first)
            weightedRowSums8(
                coefficients + u0 * padded + start, rowStep: padded, termStep: 1, count: time - start,
                rows: rows + start * rowStride,
                rowStride: rowStride, width: width, into: out + u0 * outStride, outStride: outStride,
                accumulate: accumulate)
            u0 += 8
        }
    }
    for u in u0..<time {
        let start = max(u, first)
        weightedRowSum(
            coefficients + u * padded + start, coefficientStride: 1, count: time - start,
            rows: rows + start * rowStride,
            rowStride: rowStride, width: width, into: out + u * outStride, accumulate: accumulate)
    }
}

/// Forward of one (sequence, head): q, k, v point at row 0 of the head's columns (row stride `stride`),
/// `out` at row 0 of its output columns (row stride `outStride`); `weights` (`attentionWeightsCount`
/// floats) receives a[t, u] key-major at [u · T₁₆ + t], zero where u > t. `scratch`: `attentionScratchCount` floats.
///
/// Only the queries t ≥ `firstQuery` are computed: their output rows are written, and their weight
/// columns are the only nonzero ones (so the backward ignores the others). A continuation that shares
/// the keys of a prompt run once elsewhere (FusedTrunk's shared prefixes) asks for its own rows only.
///
/// Steps: pack qᵀ·scale; scores sᵀ = k·(qᵀ·scale) in key-major tiles; per chunk of 16 queries, the
/// masked softmax over the keys as row-wise vector passes (`softmaxChunk`); o = a·v in query tiles.
public func causalAttentionForward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int,
    scale: Float,
    out: UnsafeMutablePointer<Float>, outStride: Int, weights: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>,
    firstQuery: Int = 0
) {
    precondition(firstQuery >= 0 && firstQuery < time, "first query \(firstQuery) outside 0..<\(time)")
    let padded = paddedTime(time), chunks = padded / 16, firstChunk = firstQuery / 16
    let area = AttentionScratch(scratch, time: time, headSize: headSize)
    fillMaskTables(area.masks)
    packTransposed(
        q, stride: stride, rows: firstQuery..<time, width: headSize, padded: padded, scale: scale, into: area.packed)
    keyRowsTimesPacked(
        k, stride: stride, time: time, width: headSize, packed: area.packed, padded: padded, firstChunk: firstChunk,
        into: area.table)
    for c in 0..<firstChunk {
        for u in 0..<time { store16(SIMD16<Float>(repeating: 0), weights + u * padded + 16 * c) }
    }
    for c in firstChunk..<chunks {
        softmaxChunk(area, chunk: c, time: time, first: firstQuery, padded: padded, weights: weights)
    }
    queriesTimesRows(
        weights, padded: padded, time: time, first: firstQuery, rows: v, rowStride: stride, width: headSize,
        into: out, outStride: outStride, accumulate: false)
}

/// The softmax over the keys of queries t = 16c..<16c+16 (scores in the scratch table, key-major), into
/// their columns of `weights`: masked lanes (u > t), queries before `first` and padding past T get
/// exactly 0, and key rows that no query of the chunk sees are zeroed. Three passes down the rows:
/// mask and running max; exponentials and running sum (`exponentiateColumn`); normalise.
@inline(__always)
private func softmaxChunk(
    _ area: AttentionScratch, chunk c: Int, time: Int, first: Int, padded: Int, weights: UnsafeMutablePointer<Float>
) {
    let t0 = 16 * c, last = min(time - 1, t0 + 15)
    let column = area.table + t0, masks = area.masks
    var max0 = SIMD16<Float>(repeating: -.infinity), max1 = max0
    var u = 0
    while u <= last {
        var s = load16(column + u * padded)
        if u > t0 {
            s += load16(masks + 16 - (u - t0))
            store16(s, column + u * padded)
        }
        if u & 1 == 0 {
            max0 = max0.replacing(with: s, where: s .> max0)
        } else {
            max1 = max1.replacing(with: s, where: s .> max1)
        }
        u += 1
    }
    store16(max0.replacing(with: max1, where: max1 .> max0), area.perChunk)
    exponentiateColumn(column, rows: last + 1, padded: padded, t0: t0, masks: masks, maximumAndTotal: area.perChunk)
    var inverse = 1 / load16(area.perChunk + 16)
    if t0 + 16 > time { inverse *= load16(masks + 64 + 16 - (time - t0)) }
    if first > t0 { inverse *= load16(masks + 32 + 16 - (first - t0)) }
    for u in 0...last { store16(load16(column + u * padded) * inverse, weights + u * padded + t0) }
    for u in (last + 1)..<max(last + 1, time) { store16(SIMD16<Float>(repeating: 0), weights + u * padded + t0) }
}

/// The middle pass of `softmaxChunk`: rows 0..<rows of the chunk's column ← exp(row − maximum), masked
/// lanes (u > t) exactly 0; the sum over the rows into `maximumAndTotal + 16`. Out of line with only
/// pointers and integers for arguments: inlined into its caller, LLVM outlined `exp16` instead, and a
/// SIMD16 passed by value crosses a call as four 128-bit halves.
@inline(never)
private func exponentiateColumn(
    _ column: UnsafeMutablePointer<Float>, rows: Int, padded: Int, t0: Int, masks: UnsafePointer<Float>,
    maximumAndTotal: UnsafeMutablePointer<Float>
) {
    let maximum = load16(maximumAndTotal)
    var total0 = SIMD16<Float>(repeating: 0), total1 = total0
    var u = 0
    while u < rows {
        var e = exp16(load16(column + u * padded) - maximum)
        if u > t0 { e *= load16(masks + 32 + 16 - (u - t0)) }
        store16(e, column + u * padded)
        if u & 1 == 0 { total0 += e } else { total1 += e }
        u += 1
    }
    store16(total0 + total1, maximumAndTotal + 16)
}

/// Backward of one (sequence, head): given the output gradient (row stride `outStride`) and the
/// forward's `weights`, adds dq, dk, dv into `dq`, `dk`, `dv` (row stride `stride`, same layout as q, k, v).
/// With `firstQuery` (as in the forward) only the queries t ≥ firstQuery count: their output-gradient
/// rows are read, their dq rows written, and every key and value u ≤ t gets their share. Without
/// `accumulate`, the dq rows from `firstQuery` on and every dk and dv row are overwritten instead (the
/// dq rows before it are left as they are): a caller that owns the rows need not clear them first.
public func causalAttentionBackward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int,
    scale: Float,
    weights: UnsafePointer<Float>, outGradient: UnsafePointer<Float>, outStride: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>,
    firstQuery: Int = 0, accumulate: Bool = true
) {
    precondition(firstQuery >= 0 && firstQuery < time, "first query \(firstQuery) outside 0..<\(time)")
    let padded = paddedTime(time), chunks = padded / 16, firstChunk = firstQuery / 16
    let area = AttentionScratch(scratch, time: time, headSize: headSize)
    // daᵀ[u, t] = v_u · do_t for the queries t ≥ first (doᵀ is zero elsewhere).
    packTransposed(
        outGradient, stride: outStride, rows: firstQuery..<time, width: headSize, padded: padded, scale: 1,
        into: area.packed)
    keyRowsTimesPacked(
        v, stride: stride, time: time, width: headSize, packed: area.packed, padded: padded, firstChunk: firstChunk,
        into: area.table)
    // ds = a ⊙ (da − Σ_u a⊙da) · scale, in place, per chunk of 16 queries (rows no query of it sees: 0).
    let scaleVector = SIMD16<Float>(repeating: scale)
    for c in firstChunk..<chunks {
        let t0 = 16 * c, last = min(time - 1, t0 + 15)
        let column = area.table + t0, a = weights + t0
        var dot0 = SIMD16<Float>(repeating: 0), dot1 = dot0
        var u = 0
        while u + 2 <= last + 1 {
            dot0 = dot0.addingProduct(load16(a + u * padded), load16(column + u * padded))
            dot1 = dot1.addingProduct(load16(a + (u + 1) * padded), load16(column + (u + 1) * padded))
            u += 2
        }
        if u <= last { dot0 = dot0.addingProduct(load16(a + u * padded), load16(column + u * padded)) }
        let dot = dot0 + dot1
        for u in 0...last {
            store16(load16(a + u * padded) * (load16(column + u * padded) - dot) * scaleVector, column + u * padded)
        }
        for u in (last + 1)..<max(last + 1, time) { store16(SIMD16<Float>(repeating: 0), column + u * padded) }
    }
    // dq_t += Σ_{u≤t} ds[t,u] k_u;  dk_u += Σ_{t≥u} ds[t,u] q_t;  dv_u += Σ_{t≥u} a[t,u] do_t.
    queriesTimesRows(
        area.table, padded: padded, time: time, first: firstQuery, rows: k, rowStride: stride, width: headSize,
        into: dq, outStride: stride, accumulate: accumulate)
    keysTimesRows(
        area.table, padded: padded, time: time, first: firstQuery, rows: q, rowStride: stride, width: headSize,
        into: dk, outStride: stride,
        accumulate: accumulate)
    keysTimesRows(
        weights, padded: padded, time: time, first: firstQuery, rows: outGradient, rowStride: outStride,
        width: headSize,
        into: dv, outStride: stride, accumulate: accumulate)
}
