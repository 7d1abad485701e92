// Causal self-attention of one (sequence, head) pair on raw pointers, forward and backward
// (Vaswani et al. 2017 §3.2; llm.c `attention_forward` / `attention_backward`), vectorised along
// the key axis u: the keys (and, backward, the values) are first packed transposed, [D, T] padded
// to a multiple of 16, so that a row of scores s[t, ·] is D broadcast-FMAs per 16 keys instead of
// one horizontal dot product per key (the dot-per-key form was 19 % of a GPT step, perf).
//
// Legend: T time, D head size, u ≤ t the visible keys of query t. Row strides are in floats, so a
// head's q, k and v can be read in place from a fused (B, T, 3C) projection.
//   forward:  s[t,u] = q_t·k_u·scale (u ≤ t), a[t,·] = softmax(s[t,·]), o_t = Σ_u a[t,u] v_u
//   backward: dv_u = Σ_{t≥u} a[t,u] do_t;  da[t,u] = do_t·v_u;  ds = a ⊙ (da − Σ_u a⊙da)·scale;
//             dq_t = Σ_u ds[t,u] k_u;  dk_u = Σ_{t≥u} ds[t,u] q_t

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

@inline(__always)
private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

/// Scratch floats one (sequence, head) pair needs: a packed transpose [D, T₁₆], a T × T₁₆ table (scores,
/// then gradients), two per-row values and the two 32-float causal-mask tables.
public func attentionScratchCount(time: Int, headSize: Int) -> Int {
    let padded = (time + 15) / 16 * 16
    return headSize * padded + time * padded + 2 * padded + 64
}

/// The scratch regions of one (sequence, head), in `attentionScratchCount`'s layout.
private struct AttentionScratch {
    let packed: UnsafeMutablePointer<Float>   // [D, T₁₆]: keys (forward) or values (backward) transposed
    let table: UnsafeMutablePointer<Float>    // [T, T₁₆]: row t's scores / exponentials / gradients
    let perRow: UnsafeMutablePointer<Float>   // [2, T₁₆]: row maxima and totals
    let masks: UnsafeMutablePointer<Float>    // 64: see `fillMaskTables`

    @inline(__always)
    init(_ scratch: UnsafeMutablePointer<Float>, time: Int, headSize: Int) {
        let padded = (time + 15) / 16 * 16
        packed = scratch
        table = scratch + headSize * padded
        perRow = table + time * padded
        masks = perRow + 2 * padded
    }
}

/// The causal-mask tables at `masks`: [0 ×16, −∞ ×16] (added to scores) and [1 ×16, 0 ×16] (multiplied
/// into exponentials, so masked weights are exactly 0). Loading 16 lanes at offset 15 − (t − 16c) masks
/// the lanes u = 16c + l > t of query t's chunk c: a table load instead of per-lane stores, whose
/// mixed sizes defeated store-to-load forwarding (a fifth of the forward stalled there, perf).
@inline(__always)
private func fillMaskTables(_ masks: UnsafeMutablePointer<Float>) {
    for l in 0..<16 {
        masks[l] = 0
        masks[16 + l] = -.infinity
        masks[32 + l] = 1
        masks[48 + l] = 0
    }
}

/// The first `count` (≥ 1) floats at p, zeros past them.
@inline(__always)
private func loadPrefix(_ p: UnsafePointer<Float>, count: Int) -> SIMD16<Float> {
    if count >= 16 { return load16(p) }
    var v = SIMD16<Float>(repeating: 0)
    for l in 0..<count { v[l] = p[l] }
    return v
}

/// Stores the first `count` lanes of v at p.
@inline(__always)
private func storePrefix(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count >= 16 { store16(v, p); return }
    for l in 0..<count { p[l] = v[l] }
}

/// out[0..<width] (+)= Σ_i coefficient[i · coefficientStride] · rows[i · rowStride + 0..<width].
/// The sum over i runs in registers for each 16-wide (then 8-wide, then scalar) column chunk, in four
/// interleaved accumulators (one chain would wait on the FMA latency at every term).
@inline(__always)
func weightedRowSum(
    _ coefficients: UnsafePointer<Float>, coefficientStride: Int, count: Int, rows: UnsafePointer<Float>, rowStride: Int,
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
/// out[r · outStride + 0..<width] (+)= Σ_{i<count} coefficients[r · rowStep + i · termStep] · rows[i · rowStride + 0..<width]
/// for r in 0..<8; `width` a multiple of 16. One vector load of a row feeds eight FMAs (the single-row
/// form spends two loads per FMA).
@inline(__always)
private func weightedRowSums8(
    _ coefficients: UnsafePointer<Float>, rowStep: Int, termStep: Int, count: Int, rows: UnsafePointer<Float>, rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    let o1 = rowStep, o2 = 2 &* rowStep, o3 = 3 &* rowStep, o4 = 4 &* rowStep, o5 = 5 &* rowStep, o6 = 6 &* rowStep, o7 = 7 &* rowStep
    var d = 0
    while d < width {
        let zero = SIMD16<Float>(repeating: 0)
        let target = out + d
        var c0 = accumulate ? load16(target) : zero, c1 = accumulate ? load16(target + outStride) : zero
        var c2 = accumulate ? load16(target + 2 &* outStride) : zero, c3 = accumulate ? load16(target + 3 &* outStride) : zero
        var c4 = accumulate ? load16(target + 4 &* outStride) : zero, c5 = accumulate ? load16(target + 5 &* outStride) : zero
        var c6 = accumulate ? load16(target + 6 &* outStride) : zero, c7 = accumulate ? load16(target + 7 &* outStride) : zero
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

/// out_t (+)= Σ_{u≤t} C[t, u] · rows_u for t in first..<time, with C (row stride `coefficientStride`) zero
/// above the diagonal up to the end of each 8-row tile: the attention output (C = a) and dq (C = ds).
@inline(__always)
private func lowerTriangularTimes(
    _ coefficients: UnsafePointer<Float>, coefficientStride: Int, time: Int, first: Int, rows: UnsafePointer<Float>, rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool
) {
    var t0 = first
    if width % 16 == 0 {
        while t0 + 8 <= time {
            weightedRowSums8(coefficients + t0 * coefficientStride, rowStep: coefficientStride, termStep: 1, count: t0 + 8, rows: rows,
                             rowStride: rowStride, width: width, into: out + t0 * outStride, outStride: outStride, accumulate: accumulate)
            t0 += 8
        }
    }
    for t in t0..<time {
        weightedRowSum(coefficients + t * coefficientStride, coefficientStride: 1, count: t + 1, rows: rows, rowStride: rowStride,
                       width: width, into: out + t * outStride, accumulate: accumulate)
    }
}

/// out_u += Σ_{t≥u} C[t, u] · rows_t for u in 0..<time (Cᵀ times rows), C zero above the diagonal
/// within each 8-column tile: dk (C = ds, rows q) and dv (C = a, rows do).
@inline(__always)
private func transposedLowerTriangularTimes(
    _ coefficients: UnsafePointer<Float>, coefficientStride: Int, time: Int, rows: UnsafePointer<Float>, rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, outStride: Int
) {
    var u0 = 0
    if width % 16 == 0 {
        while u0 + 8 <= time {
            weightedRowSums8(coefficients + u0 * coefficientStride + u0, rowStep: 1, termStep: coefficientStride, count: time - u0,
                             rows: rows + u0 * rowStride, rowStride: rowStride, width: width, into: out + u0 * outStride, outStride: outStride,
                             accumulate: true)
            u0 += 8
        }
    }
    for u in u0..<time {
        weightedRowSum(coefficients + u * coefficientStride + u, coefficientStride: coefficientStride, count: time - u,
                       rows: rows + u * rowStride, rowStride: rowStride, width: width, into: out + u * outStride, accumulate: true)
    }
}

/// Packs `time` rows of `width` floats (row stride `stride`) transposed: packed[d · padded + u], zero for u ≥ time.
/// Walked row by row with pointer bumps (indexing `source[u · stride + d]` kept an overflow-checked
/// multiply per element: the packing was a third of the attention forward, perf).
@inline(__always)
private func packTransposed(_ source: UnsafePointer<Float>, stride: Int, time: Int, width: Int, padded: Int, into packed: UnsafeMutablePointer<Float>) {
    var row = source
    for u in 0..<time {
        var destination = packed + u
        for d in 0..<width {
            destination.pointee = row[d]
            destination += padded
        }
        row += stride
    }
    if time < padded {
        for d in 0..<width { (packed + d &* padded + time).update(repeating: 0, count: padded &- time) }
    }
}

/// row[0..<16·chunks] = Σ_d x[d] · packed[d · padded + 0..<16·chunks]: one query (or output gradient)
/// against every packed key (or value). Even and odd d go to separate accumulators (latency).
@inline(__always)
private func rowTimesPacked(_ x: UnsafePointer<Float>, width: Int, packed: UnsafePointer<Float>, padded: Int, chunks: Int, into row: UnsafeMutablePointer<Float>) {
    var c = 0
    while c + 2 <= chunks {
        var a0 = SIMD16<Float>(repeating: 0), a1 = SIMD16<Float>(repeating: 0)
        var b0 = SIMD16<Float>(repeating: 0), b1 = SIMD16<Float>(repeating: 0)
        var column = packed + 16 &* c, d = 0
        while d + 2 <= width {
            let s = SIMD16<Float>(repeating: x[d]), r = SIMD16<Float>(repeating: x[d &+ 1])
            a0 = a0.addingProduct(s, load16(column))
            a1 = a1.addingProduct(s, load16(column + 16))
            b0 = b0.addingProduct(r, load16(column + padded))
            b1 = b1.addingProduct(r, load16(column + padded + 16))
            column += 2 &* padded
            d &+= 2
        }
        if d < width {
            let s = SIMD16<Float>(repeating: x[d])
            a0 = a0.addingProduct(s, load16(column))
            a1 = a1.addingProduct(s, load16(column + 16))
        }
        store16(a0 + b0, row + 16 &* c)
        store16(a1 + b1, row + 16 &* c + 16)
        c &+= 2
    }
    if c < chunks {
        var a0 = SIMD16<Float>(repeating: 0), b0 = SIMD16<Float>(repeating: 0)
        var column = packed + 16 &* c, d = 0
        while d + 2 <= width {
            a0 = a0.addingProduct(SIMD16(repeating: x[d]), load16(column))
            b0 = b0.addingProduct(SIMD16(repeating: x[d &+ 1]), load16(column + padded))
            column += 2 &* padded
            d &+= 2
        }
        if d < width { a0 = a0.addingProduct(SIMD16(repeating: x[d]), load16(column)) }
        store16(a0 + b0, row + 16 &* c)
    }
}

/// max over the 16 lanes: one vector step, then 8 scalars (SIMD's `max()` compiled to a serial chain
/// of 16 compares, and the generic `pointwiseMax` on the halves to calls).
@inline(__always)
private func horizontalMaximum(_ v: SIMD16<Float>) -> Float {
    let low = v.lowHalf, high = v.highHalf
    let h8 = low.replacing(with: high, where: high .> low)
    var m = h8[0]
    for i in 1..<8 { m = Swift.max(m, h8[i]) }
    return m
}

/// Σ over the 16 lanes by halving.
@inline(__always)
private func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let h8 = v.lowHalf + v.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

/// Forward of one (sequence, head): q, k, v point at row 0 of the head's columns (row stride `stride`),
/// `out` at row 0 of its output columns (row stride `outStride`); `weights` (T × T, row-major) receives
/// a[t, u] with zeros above the diagonal. `scratch`: `attentionScratchCount` floats.
///
/// Only the queries t ≥ `firstQuery` are computed: their output rows are written, and the weight rows
/// above them are zero (so the backward ignores them). A continuation that shares the keys of a prompt
/// run once elsewhere (FusedTrunk's shared prefixes) asks for its own rows only.
///
/// Three passes over whole 16-key chunks up to each row's diagonal: (1) scores, scale, mask and each
/// row's maximum into the table; (2) every exponential of the table and each row's total, one flat loop
/// whose iterations are independent (a row's exp is a long dependency chain, and one row at a time left
/// the core waiting on it: a quarter of the forward, perf); (3) the weights and o_t = Σ_u a[t,u] v_u.
public func causalAttentionForward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int, scale: Float,
    out: UnsafeMutablePointer<Float>, outStride: Int, weights: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    firstQuery: Int = 0
) {
    precondition(firstQuery >= 0 && firstQuery < time, "first query \(firstQuery) outside 0..<\(time)")
    let padded = (time + 15) / 16 * 16
    let area = AttentionScratch(scratch, time: time, headSize: headSize)
    let maxima = area.perRow, totals = area.perRow + padded
    fillMaskTables(area.masks)
    packTransposed(k, stride: stride, time: time, width: headSize, padded: padded, into: area.packed)
    let scaleVector = SIMD16<Float>(repeating: scale)
    for t in firstQuery..<time {
        let chunks = t / 16 + 1, last = chunks - 1
        let row = area.table + t * padded
        rowTimesPacked(q + t * stride, width: headSize, packed: area.packed, padded: padded, chunks: chunks, into: row)
        var maximum = SIMD16<Float>(repeating: -.infinity)
        for c in 0..<chunks {
            var s = load16(row + 16 * c) * scaleVector
            if c == last { s += load16(area.masks + 15 - (t - 16 * last)) }
            store16(s, row + 16 * c)
            maximum = maximum.replacing(with: s, where: s .> maximum)
        }
        maxima[t] = horizontalMaximum(maximum)
    }
    exponentiateRows(area, time: time, first: firstQuery, padded: padded, maxima: maxima, totals: totals)
    if firstQuery > 0 { weights.update(repeating: 0, count: firstQuery * time) }
    for t in firstQuery..<time {
        let chunks = t / 16 + 1
        let row = area.table + t * padded, a = weights + t * time
        let inverse = SIMD16<Float>(repeating: 1 / totals[t])
        for c in 0..<chunks { storePrefix(load16(row + 16 * c) * inverse, a + 16 * c, count: time - 16 * c) }
        if 16 * chunks < time { (a + 16 * chunks).update(repeating: 0, count: time - 16 * chunks) }
    }
    lowerTriangularTimes(weights, coefficientStride: time, time: time, first: firstQuery, rows: v, rowStride: stride, width: headSize,
                         into: out, outStride: outStride, accumulate: false)
}

/// Pass 2 of the forward: table row t ← exp(row − maxima[t]) over its visible chunks (masked lanes
/// exactly 0), totals[t] ← the row's sum. Out of line on purpose: inlined into the forward, LLVM
/// outlined `exp16` instead, and a SIMD16 passed by value crosses a call as four 128-bit halves.
@inline(never)
private func exponentiateRows(_ area: AttentionScratch, time: Int, first: Int, padded: Int, maxima: UnsafePointer<Float>, totals: UnsafeMutablePointer<Float>) {
    for t in first..<time {
        let chunks = t / 16 + 1, last = chunks - 1
        let row = area.table + t * padded
        let shift = SIMD16<Float>(repeating: maxima[t])
        var total = SIMD16<Float>(repeating: 0)
        for c in 0..<chunks {
            var e = exp16(load16(row + 16 * c) - shift)
            if c == last { e *= load16(area.masks + 32 + 15 - (t - 16 * last)) }
            store16(e, row + 16 * c)
            total += e
        }
        totals[t] = horizontalSum(total)
    }
}

/// Backward of one (sequence, head): given the output gradient (row stride `outStride`) and the
/// forward's `weights`, adds dq, dk, dv into `dq`, `dk`, `dv` (row stride `stride`, same layout as q, k, v).
/// With `firstQuery` (as in the forward) only the queries t ≥ firstQuery count: their output-gradient
/// rows are read, their dq rows written, and every key and value u ≤ t gets their share.
public func causalAttentionBackward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int, scale: Float,
    weights: UnsafePointer<Float>, outGradient: UnsafePointer<Float>, outStride: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    firstQuery: Int = 0
) {
    precondition(firstQuery >= 0 && firstQuery < time, "first query \(firstQuery) outside 0..<\(time)")
    let padded = (time + 15) / 16 * 16
    let area = AttentionScratch(scratch, time: time, headSize: headSize)
    let valuesT = area.packed, scores = area.table
    packTransposed(v, stride: stride, time: time, width: headSize, padded: padded, into: valuesT)
    let scaleVector = SIMD16<Float>(repeating: scale)
    // Rows above the first query take no part: ds = 0 there (the dk product below reads every row).
    if firstQuery > 0 { scores.update(repeating: 0, count: firstQuery * padded) }
    // da[t, ·] = do_t · v_· into the table (lanes past t meet a = 0 below). Passes over independent
    // rows, so that one row's long chain of dependent steps overlaps the next row's (perf).
    for t in firstQuery..<time {
        rowTimesPacked(outGradient + t * outStride, width: headSize, packed: valuesT, padded: padded, chunks: t / 16 + 1, into: scores + t * padded)
    }
    // ds[t, ·] = a ⊙ (da − Σ_u a⊙da) · scale, in place.
    for t in firstQuery..<time {
        let chunks = t / 16 + 1
        let a = weights + t * time, ds = scores + t * padded
        var dot = SIMD16<Float>(repeating: 0)
        for c in 0..<chunks { dot = dot.addingProduct(loadPrefix(a + 16 * c, count: time - 16 * c), load16(ds + 16 * c)) }
        let weighted = SIMD16<Float>(repeating: horizontalSum(dot))
        for c in 0..<chunks {
            store16(loadPrefix(a + 16 * c, count: time - 16 * c) * (load16(ds + 16 * c) - weighted) * scaleVector, ds + 16 * c)
        }
    }
    // dq_t += Σ_{u≤t} ds[t,u] k_u
    lowerTriangularTimes(scores, coefficientStride: padded, time: time, first: firstQuery, rows: k, rowStride: stride, width: headSize,
                         into: dq, outStride: stride, accumulate: true)
    // Columns: dk_u += Σ_{t≥u} ds[t,u] q_t and dv_u += Σ_{t≥u} a[t,u] do_t.
    transposedLowerTriangularTimes(scores, coefficientStride: padded, time: time, rows: q, rowStride: stride, width: headSize, into: dk, outStride: stride)
    transposedLowerTriangularTimes(weights, coefficientStride: time, time: time, rows: outGradient, rowStride: outStride, width: headSize,
                                   into: dv, outStride: stride)
}
