// Layer-norm rows on raw pointers, 16 lanes at a time (a scalar tail when C is not a multiple of 16).
// The reductions accumulate in SIMD16 lanes in a fixed order, so results are deterministic; the
// array-subscript version spent 12 % of a GRPO step here (perf).

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Σ over the 16 lanes by halving: four dependent adds (SIMD16's `sum()` compiled to a serial chain of
/// sixteen scalar adds, which every row's mean and variance waited on, disassembly).
@inline(__always)
private func laneSum(_ v: SIMD16<Float>) -> Float {
    let h8 = v.lowHalf + v.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

/// Σ x over n floats.
@inline(__always)
func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>(repeating: 0), j = 0
    while j + 16 <= n { acc += load16(x + j); j += 16 }
    var total = laneSum(acc)
    while j < n { total += x[j]; j += 1 }
    return total
}

/// Forward over `rows` rows of C: x̂ = (x − μ)·s, y = x̂·γ + β, s = 1/√(σ² + ε); stores x̂ and s for the backward.
func layerNormForward(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, c: Int,
    epsilon: Float,
    out: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let row = x + r * c, n = normalized + r * c, y = out + r * c
        let mean = sum(row, c) / Float(c)
        var acc = SIMD16<Float>(repeating: 0), j = 0
        while j + 16 <= c { let d = load16(row + j) - mean; acc += d * d; j += 16 }
        var variance = laneSum(acc)
        while j < c { let d = row[j] - mean; variance += d * d; j += 1 }
        let s = 1 / (variance / Float(c) + epsilon).squareRoot()
        inverseStd[r] = s
        j = 0
        while j + 16 <= c {
            let v = (load16(row + j) - mean) * s
            store16(v, n + j)
            store16(v * load16(weight + j) + load16(bias + j), y + j)
            j += 16
        }
        while j < c {
            let v = (row[j] - mean) * s
            n[j] = v
            y[j] = v * weight[j] + bias[j]
            j += 1
        }
    }
}

/// γ and β gradients: gγ += Σ_rows dy ⊙ x̂, gβ += Σ_rows dy.
func layerNormParameterBackward(
    _ g: UnsafePointer<Float>, normalized: UnsafePointer<Float>, rows: Int, c: Int,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let gr = g + r * c, n = normalized + r * c
        var j = 0
        while j + 16 <= c {
            let gv = load16(gr + j)
            store16(load16(weightGradient + j) + gv * load16(n + j), weightGradient + j)
            store16(load16(biasGradient + j) + gv, biasGradient + j)
            j += 16
        }
        while j < c {
            weightGradient[j] += gr[j] * n[j]
            biasGradient[j] += gr[j]
            j += 1
        }
    }
}

/// dx += s·(dŷ − mean(dŷ) − x̂·mean(dŷ ⊙ x̂)), dŷ = dy ⊙ γ.
func layerNormInputBackward(
    _ g: UnsafePointer<Float>, weight: UnsafePointer<Float>, normalized: UnsafePointer<Float>,
    inverseStd: UnsafePointer<Float>,
    rows: Int, c: Int, inputGradient: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let gr = g + r * c, n = normalized + r * c, dx = inputGradient + r * c
        var accDy = SIMD16<Float>(repeating: 0), accDyX = SIMD16<Float>(repeating: 0), j = 0
        while j + 16 <= c {
            let dy = load16(gr + j) * load16(weight + j)
            accDy += dy
            accDyX += dy * load16(n + j)
            j += 16
        }
        var meanDy = laneSum(accDy), meanDyXhat = laneSum(accDyX)
        while j < c {
            let dy = gr[j] * weight[j]
            meanDy += dy
            meanDyXhat += dy * n[j]
            j += 1
        }
        meanDy /= Float(c)
        meanDyXhat /= Float(c)
        let s = inverseStd[r]
        j = 0
        while j + 16 <= c {
            let dy = load16(gr + j) * load16(weight + j)
            store16(load16(dx + j) + s * (dy - meanDy - load16(n + j) * meanDyXhat), dx + j)
            j += 16
        }
        while j < c {
            let dy = gr[j] * weight[j]
            dx[j] += s * (dy - meanDy - n[j] * meanDyXhat)
            j += 1
        }
    }
}

/// `layerNormParameterBackward` and `layerNormInputBackward` in one pass down the rows: each row's dy and x̂
/// are read once for the γ and β sums and for dx's two row means, while they are in L1 (the two passes
/// read every row twice from L2 or memory). Every sum keeps the order of the two passes, so the bits are theirs.
func layerNormBackward(
    _ g: UnsafePointer<Float>, weight: UnsafePointer<Float>, normalized: UnsafePointer<Float>,
    inverseStd: UnsafePointer<Float>, rows: Int, c: Int, inputGradient: UnsafeMutablePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let gr = g + r * c, n = normalized + r * c, dx = inputGradient + r * c
        var accDy = SIMD16<Float>(repeating: 0), accDyX = SIMD16<Float>(repeating: 0), j = 0
        while j + 16 <= c {
            let gv = load16(gr + j), nv = load16(n + j)
            store16(load16(weightGradient + j) + gv * nv, weightGradient + j)
            store16(load16(biasGradient + j) + gv, biasGradient + j)
            let dy = gv * load16(weight + j)
            accDy += dy
            accDyX += dy * nv
            j += 16
        }
        var meanDy = laneSum(accDy), meanDyXhat = laneSum(accDyX)
        while j < c {
            weightGradient[j] += gr[j] * n[j]
            biasGradient[j] += gr[j]
            let dy = gr[j] * weight[j]
            meanDy += dy
            meanDyXhat += dy * n[j]
            j += 1
        }
        meanDy /= Float(c)
        meanDyXhat /= Float(c)
        let s = inverseStd[r]
        j = 0
        while j + 16 <= c {
            let dy = load16(gr + j) * load16(weight + j)
            store16(load16(dx + j) + s * (dy - meanDy - load16(n + j) * meanDyXhat), dx + j)
            j += 16
        }
        while j < c {
            let dy = gr[j] * weight[j]
            dx[j] += s * (dy - meanDy - n[j] * meanDyXhat)
            j += 1
        }
    }
}
