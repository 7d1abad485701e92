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

/// Scratch floats one (sequence, head) pair needs: a packed transpose [D, T₁₆] and two score rows / a
/// T × T gradient table.
public func attentionScratchCount(time: Int, headSize: Int) -> Int {
    let padded = (time + 15) / 16 * 16
    return headSize * padded + time * padded + 2 * padded
}

/// out[0..<width] (+)= Σ_i coefficient[i · coefficientStride] · rows[i · rowStride + 0..<width].
/// The sum over i runs in registers for each 16-wide (then 8-wide, then scalar) column chunk.
@inline(__always)
func weightedRowSum(
    _ coefficients: UnsafePointer<Float>, coefficientStride: Int, count: Int, rows: UnsafePointer<Float>, rowStride: Int,
    width: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    var d = 0
    while d + 16 <= width {
        var acc = accumulate ? load16(out + d) : SIMD16<Float>(repeating: 0)
        for i in 0..<count { acc = acc.addingProduct(SIMD16(repeating: coefficients[i * coefficientStride]), load16(rows + i * rowStride + d)) }
        store16(acc, out + d)
        d += 16
    }
    if d + 8 <= width {
        var acc = accumulate ? load8(out + d) : SIMD8<Float>(repeating: 0)
        for i in 0..<count { acc = acc.addingProduct(SIMD8(repeating: coefficients[i * coefficientStride]), load8(rows + i * rowStride + d)) }
        store8(acc, out + d)
        d += 8
    }
    while d < width {
        var acc: Float = accumulate ? out[d] : 0
        for i in 0..<count { acc += coefficients[i * coefficientStride] * rows[i * rowStride + d] }
        out[d] = acc
        d += 1
    }
}

/// Packs `time` rows of `width` floats (row stride `stride`) transposed: packed[d · padded + u], zero for u ≥ time.
@inline(__always)
private func packTransposed(_ source: UnsafePointer<Float>, stride: Int, time: Int, width: Int, padded: Int, into packed: UnsafeMutablePointer<Float>) {
    for d in 0..<width {
        let column = packed + d * padded
        for u in 0..<time { column[u] = source[u * stride + d] }
        for u in time..<padded { column[u] = 0 }
    }
}

/// row[0..<16·chunks] = Σ_d x[d] · packed[d · padded + 0..<16·chunks]: one query (or output gradient)
/// against every packed key (or value).
@inline(__always)
private func rowTimesPacked(_ x: UnsafePointer<Float>, width: Int, packed: UnsafePointer<Float>, padded: Int, chunks: Int, into row: UnsafeMutablePointer<Float>) {
    var c = 0
    while c + 2 <= chunks {
        var a0 = SIMD16<Float>(repeating: 0), a1 = SIMD16<Float>(repeating: 0)
        for d in 0..<width {
            let s = SIMD16<Float>(repeating: x[d])
            let column = packed + d * padded + 16 * c
            a0 = a0.addingProduct(s, load16(column))
            a1 = a1.addingProduct(s, load16(column + 16))
        }
        store16(a0, row + 16 * c)
        store16(a1, row + 16 * c + 16)
        c += 2
    }
    if c < chunks {
        var a0 = SIMD16<Float>(repeating: 0)
        for d in 0..<width { a0 = a0.addingProduct(SIMD16(repeating: x[d]), load16(packed + d * padded + 16 * c)) }
        store16(a0, row + 16 * c)
    }
}

/// Lane indices 0..<16, for masking keys beyond the query.
private let laneIndex = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/// Forward of one (sequence, head): q, k, v point at row 0 of the head's columns (row stride `stride`),
/// `out` at row 0 of its output columns (row stride `outStride`); `weights` (T × T, row-major) receives
/// a[t, u] with zeros above the diagonal. `scratch`: `attentionScratchCount` floats.
public func causalAttentionForward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int, scale: Float,
    out: UnsafeMutablePointer<Float>, outStride: Int, weights: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    let padded = (time + 15) / 16 * 16
    let keysT = scratch, row = scratch + headSize * padded
    packTransposed(k, stride: stride, time: time, width: headSize, padded: padded, into: keysT)
    for t in 0..<time {
        let visible = t + 1, chunks = (visible + 15) / 16
        rowTimesPacked(q + t * stride, width: headSize, packed: keysT, padded: padded, chunks: chunks, into: row)
        // Scale, mask u > t, softmax over the visible keys.
        var maximum = SIMD16<Float>(repeating: -.infinity)
        for c in 0..<chunks {
            var s = load16(row + 16 * c) * scale
            s.replace(with: -.infinity, where: laneIndex &+ Int32(16 * c) .> Int32(t))
            store16(s, row + 16 * c)
            maximum = pointwiseMax(maximum, s)
        }
        let m = maximum.max()
        var total = SIMD16<Float>(repeating: 0)
        for c in 0..<chunks {
            var e = exp16(load16(row + 16 * c) - m)
            e.replace(with: 0, where: laneIndex &+ Int32(16 * c) .> Int32(t))
            store16(e, row + 16 * c)
            total += e
        }
        let inverse = 1 / total.sum()
        let a = weights + t * time
        for u in 0..<visible { a[u] = row[u] * inverse }
        for u in visible..<time { a[u] = 0 }
        weightedRowSum(a, coefficientStride: 1, count: visible, rows: v, rowStride: stride, width: headSize, into: out + t * outStride, accumulate: false)
    }
}

/// Backward of one (sequence, head): given the output gradient (row stride `outStride`) and the
/// forward's `weights`, adds dq, dk, dv into `dq`, `dk`, `dv` (row stride `stride`, same layout as q, k, v).
public func causalAttentionBackward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, time: Int, headSize: Int, scale: Float,
    weights: UnsafePointer<Float>, outGradient: UnsafePointer<Float>, outStride: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    let padded = (time + 15) / 16 * 16
    let valuesT = scratch, scores = scratch + headSize * padded, row = scores + time * padded
    packTransposed(v, stride: stride, time: time, width: headSize, padded: padded, into: valuesT)
    for t in 0..<time {
        let visible = t + 1, chunks = (visible + 15) / 16
        // da[t, ·] = do_t · v_·
        rowTimesPacked(outGradient + t * outStride, width: headSize, packed: valuesT, padded: padded, chunks: chunks, into: row)
        let a = weights + t * time
        var weighted: Float = 0
        for u in 0..<visible { weighted += a[u] * row[u] }
        let ds = scores + t * padded
        for u in 0..<visible { ds[u] = a[u] * (row[u] - weighted) * scale }
        weightedRowSum(ds, coefficientStride: 1, count: visible, rows: k, rowStride: stride, width: headSize, into: dq + t * stride, accumulate: true)
    }
    // Columns: dk_u = Σ_{t≥u} ds[t,u] q_t and dv_u = Σ_{t≥u} a[t,u] do_t.
    for u in 0..<time {
        let later = time - u
        weightedRowSum(scores + u * padded + u, coefficientStride: padded, count: later, rows: q + u * stride, rowStride: stride,
                       width: headSize, into: dk + u * stride, accumulate: true)
        weightedRowSum(weights + u * time + u, coefficientStride: time, count: later, rows: outGradient + u * outStride, rowStride: outStride,
                       width: headSize, into: dv + u * stride, accumulate: true)
    }
}
