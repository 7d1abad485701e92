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
        // Scale, mask u > t, softmax over the visible keys. The mask is written lane by lane (at most 15
        // stores): a vector compare against lane indices compiled to a per-lane loop (perf).
        let lanes = 16 * chunks
        for u in visible..<lanes { row[u] = -.infinity }
        var maximum = SIMD16<Float>(repeating: -.infinity)
        for c in 0..<chunks {
            let s = load16(row + 16 * c) * scale
            store16(s, row + 16 * c)
            maximum = maximum.replacing(with: s, where: s .> maximum)
        }
        let m = horizontalMaximum(maximum)
        for c in 0..<chunks { store16(exp16(load16(row + 16 * c) - m), row + 16 * c) }
        for u in visible..<lanes { row[u] = 0 }
        var total = SIMD16<Float>(repeating: 0)
        for c in 0..<chunks { total += load16(row + 16 * c) }
        let inverse = 1 / horizontalSum(total)
        // a[t, ·] = row · inverse (zeros past t); whole chunks only where they end inside this row.
        let a = weights + t * time
        var u = 0
        while u + 16 <= time && u < lanes { store16(load16(row + u) * inverse, a + u); u += 16 }
        while u < min(lanes, time) { a[u] = row[u] * inverse; u += 1 }
        while u < time { a[u] = 0; u += 1 }
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
