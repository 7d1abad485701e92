// Single-precision matrix multiply: C[M,N] (+)= A·B, with A read through arbitrary strides so the same
// kernel serves A·B and Aᵀ·B (the weight gradient), and B row-major contiguous along N.
//
// Design after BLIS / PLATFORM.md: a register tile of accumulators updated with fused multiply-adds
// (`addingProduct`, which lowers to `vfmadd…ps` on an FMA target), K blocked by 256 and N by 256 so the B panel
// stays in L2. B is packed into 32-column panels per K×N block (see `gemmRows`): [kc][32] for the 8×32 tile, two
// [kc][16] halves for the 6×16 tile (`GemmTile.splitsPanels`). The tile is chosen for the instruction set the
// build targets (`GemmTile.preferred`, `KernelPath.swift`): 8×32 with SIMD16 accumulators on AVX-512 (16 of
// its 32 zmm registers), 6×16 with SIMD8 on AVX2 (12 of its 16 ymm registers; the 8×32 tile spilled there: 39 %
// of the FMA peak on a Zen 3) and elsewhere (NEON: 24 of its 32 q registers).
//
// The result does not depend on the tile: every element of C is one chain of FMAs over k in order, per K block,
// started from the bias or zero (fresh), or from C — or, for the elements outside the full 8×32 tiles of the
// row range (the last rows mod 8, the last columns of an N block mod 32), from zero and then added to that
// start. That edge rule is the 8×32 tile's, and every tile keeps it (`TileStart`), so the seeded results are
// bit-identical on AVX-512, AVX2 and NEON (a test runs both tiles on edge shapes).

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

@inline(__always)
private func load8(_ p: ConstFloatPointer) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: FloatPointer) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// The register tile of the gemm's micro-kernel. Which one runs changes the instructions, never the result.
public enum GemmTile: Sendable, CaseIterable {
    /// 8 rows × 32 columns, sixteen SIMD16 accumulators: AVX-512 (32 zmm registers).
    case rows8Columns32
    /// 6 rows × 16 columns, twelve SIMD8 accumulators: AVX2 + FMA (16 ymm registers), and NEON.
    case rows6Columns16

    /// The tile for the instruction set this build targets (Package.swift's `POLICYLAB_AVX512`).
    public static var preferred: GemmTile {
        #if POLICYLAB_AVX512
        .rows8Columns32
        #else
        .rows6Columns16
        #endif
    }

    var rows: Int { self == .rows8Columns32 ? 8 : 6 }
    var columns: Int { self == .rows8Columns32 ? 32 : 16 }
    /// Whether B's 32-column panels are stored as two [kc][16] halves: the 6×16 tile then streams its B rows
    /// contiguously (64 bytes per k) instead of every other cache line of a [kc][32] panel. Same floats in
    /// other places, so the same bits.
    var splitsPanels: Bool { self == .rows6Columns16 }
    /// Floats from one row of a tile's B to the next: 32 in a whole panel, 16 in a half.
    var panelRowStride: Int { splitsPanels ? 16 : 32 }

    /// A second, shorter tile height run in place on C (4 for the 6×16 tile: `kernel4x16`), 0 when none.
    var shortRows: Int { self == .rows8Columns32 ? 0 : 4 }

    /// Rows of the next tile when `remaining` rows are left in the row region. In the full 8-row groups
    /// (`inFullRows`), the 6×16 tile ends a region of 8j rows (8j mod 6 is 0, 2 or 4) with one or two 4-row
    /// tiles (… 6 6 4, or … 6 4 4 where 6 + 2 would leave 2) that run in place like full tiles, instead of a
    /// 2- or 4-row remainder computed in scratch (`edgeTile`: 2-3 % of a GPT S step on AVX2, perf).
    @inline(__always)
    func rowsOfNextTile(remaining: Int, inFullRows: Bool) -> Int {
        if inFullRows && shortRows > 0 && (remaining == 8 || remaining == shortRows) { return shortRows }
        return min(rows, remaining)
    }

    /// "8x32 SIMD16" or "6x16 SIMD8", as `policylab bench` reports it.
    public var label: String { self == .rows8Columns32 ? "8x32 SIMD16" : "6x16 SIMD8" }
}

/// Where a tile's FMA chains start (see the header): `inRegisters`, from the bias / zero (fresh) or from C; or
/// `zeroThenAdd`, from zero, the sum then added to that start (the elements outside the full 8×32 tiles).
private enum TileStart {
    case inRegisters
    case zeroThenAdd
}

/// Elementwise work on C done by the product itself, on each finished 8-row tile while it is in L1,
/// instead of a separate pass over C that reloads it from L2 or memory. Pointers address matrices laid
/// out like C (same `ldc`).
/// (GELU itself as the fc product's epilogue measured no faster than its own pass: ABBA 8 pairs, GPT S
/// best 1.00×, p10 0.98×.)
public enum GemmEpilogue: @unchecked Sendable {
    /// C ← C ⊙ factor: the MLP's hidden gradient times GELU′ in the fused trunk's backward (ABBA 8
    /// pairs against a separate pass: GPT S best and p10 step 1.03×).
    case multiply(factor: UnsafePointer<Float>)
    /// C ← C + addend: the fused trunk's residual connections (x + attended·Wᵀ + b, middle + MLP output),
    /// the same sums as a separate pass, without reloading C and the addend from L2 for it.
    case add(addend: UnsafePointer<Float>)

    /// Applies to `count` floats of C at `row`, which is element `offset` of C.
    @inline(__always)
    func apply(row: FloatPointer, at offset: Int, count: Int) {
        switch self {
        case .multiply(let factor): multiplyInPlace(row, factor + offset, count)
        case .add(let addend): addInPlace(row, addend + offset, count)
        }
    }
}

/// x ← x + addend over n floats (the sums `CPUKernels.add(x, addend, into: x)` makes).
@inline(__always)
func addInPlace(_ x: FloatPointer, _ addend: ConstFloatPointer, _ n: Int) {
    var i = 0
    while i + 16 <= n {
        store16(load16(x + i) + load16(addend + i), x + i)
        i += 16
    }
    while i < n { x[i] += addend[i]; i += 1 }
}

/// x ← x ⊙ factor over n floats.
@inline(__always)
func multiplyInPlace(_ x: FloatPointer, _ factor: ConstFloatPointer, _ n: Int) {
    var i = 0
    while i + 16 <= n {
        store16(load16(x + i) * load16(factor + i), x + i)
        i += 16
    }
    while i < n { x[i] *= factor[i]; i += 1 }
}

/// Strided view of A: A(i, k) = base[i * rowStride + k * columnStride].
struct StridedMatrix {
    let base: ConstFloatPointer
    let rowStride: Int
    let columnStride: Int
}

/// C[M,N] = A·B (+ `bias` on every row, when given), or C += A·B when `accumulate`. `ldb`, `ldc`: row
/// strides of B and C; with `transposedB`, B is given as Bᵀ [N, K] (row stride `ldb`) and transposed
/// while it is packed (y = x·Wᵀ for a weight W [out, in] as stored, with no transposed copy of W).
/// `parallel`: split the rows of C over the kernel threads when the product is
/// large enough (off inside a job that already runs on one of them). Without `accumulate` the tiles
/// start from the bias (or zero) in registers: C is neither cleared nor pre-filled in memory.
func gemm(
    m: Int, n: Int, k: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int,
    accumulate: Bool, parallel: Bool = true, bias: ConstFloatPointer? = nil, packedB: ConstFloatPointer? = nil,
    transposedB: Bool = false,
    epilogue: GemmEpilogue? = nil, tile: GemmTile = .preferred
) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate {
            for i in 0..<m {
                if let bias {
                    (c + i * ldc).update(from: bias, count: n)
                } else {
                    (c + i * ldc).update(repeating: 0, count: n)
                }
            }
        }
        if let epilogue { for i in 0..<m { epilogue.apply(row: c + i * ldc, at: i * ldc, count: n) } }
        return
    }
    if !parallel {
        gemmRows(
            0..<m, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, bias: bias,
            packedB: packedB,
            transposedB: transposedB, epilogue: epilogue, tile: tile)
        return
    }
    let work = m * n * k, threshold = 1 << 19
    // Two threads each packing all of B (as `gemmRows` does per call) duplicated a copy of B per thread:
    // packed once, half by each thread, then read by both (matmul 512³ on 2 threads, per CPU-second under
    // load: 75 → 84 % of the FMA peak). Small B (< 16k floats): the extra hand-off costs more than it saves.
    if packedB == nil && k * n >= 1 << 14 && work >= threshold && m >= 16 && KernelWorker.shared != nil {
        let packed = FloatPointer.allocate(capacity: packedCount(k: k, n: n))
        defer { packed.deallocate() }
        packWholeShared(b, ldb: ldb, k: k, n: n, transposed: transposedB, into: packed, tile: tile)
        gemm(
            m: m, n: n, k: k, a: a, b: packed, ldb: n, c: c, ldc: ldc, accumulate: accumulate, parallel: true,
            bias: bias, packedB: packed, epilogue: epilogue, tile: tile)
        return
    }
    let shared = UncheckedSendable((a, b, c, bias, packedB)), finish = UncheckedSendable(epilogue)
    parallelChunks(count: m, granularity: 8, work: work, threshold: threshold) { rows in
        let (a, b, c, bias, packedB) = shared.value, epilogue = finish.value
        gemmRows(
            rows, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, bias: bias,
            packedB: packedB,
            transposedB: transposedB, epilogue: epilogue, tile: tile)
    }
}

/// Floats of B [k, n] packed whole (`packWhole`): every (N block, K block) in the order `gemmRows`
/// takes them, each as ⌈nc/32⌉ panels of [kc][32].
func packedCount(k: Int, n: Int) -> Int {
    var total = 0, jc = 0
    while jc < n {
        let panels = (min(blockN, n - jc) + 31) / 32
        total += panels * 32 * k
        jc += blockN
    }
    return total
}

/// Packs all of B [k, n] (row stride ldb; with `transposed`, given as Bᵀ [n, k]) once, for products whose
/// B is fixed across calls (a sampler's weights across decode steps): `gemm(…, packedB:)` then skips
/// its per-call packing, which for a few rows of A costs as much as the product (a decode step of GPT M
/// packs 3 MB of weights).
func packWhole(
    _ b: ConstFloatPointer, ldb: Int, k: Int, n: Int, transposed: Bool, into packed: FloatPointer,
    tile: GemmTile = .preferred
) {
    var offset = 0, jc = 0
    while jc < n {
        let nc = min(blockN, n - jc), panels = (nc + 31) / 32
        var pc = 0
        while pc < k {
            let kc = min(blockK, k - pc)
            packBlock(
                b, ldb: ldb, transposed: transposed, k0: pc, kc: kc, j0: jc, nc: nc, into: packed + offset,
                halves: tile.splitsPanels)
            offset += panels * kc * 32
            pc += kc
        }
        jc += nc
    }
}

/// `packWhole` on both kernel threads: its 32-column panels split between them (the same floats in the same
/// places).
private func packWholeShared(
    _ b: ConstFloatPointer, ldb: Int, k: Int, n: Int, transposed: Bool, into packed: FloatPointer, tile: GemmTile
) {
    // (offset in `packed`, K block start, its depth, first column, width) of every panel, in packWhole's order.
    var panels: [(offset: Int, k0: Int, kc: Int, j0: Int, width: Int)] = []
    var offset = 0, jc = 0
    while jc < n {
        let nc = min(blockN, n - jc)
        var pc = 0
        while pc < k {
            let kc = min(blockK, k - pc)
            var j = 0
            while j < nc {
                panels.append((offset, pc, kc, jc + j, min(32, nc - j)))
                offset += kc * 32
                j += 32
            }
            pc += kc
        }
        jc += nc
    }
    let shared = UncheckedSendable((b, packed, panels)), halves = tile.splitsPanels
    parallelChunks(count: panels.count, work: 1, threshold: 0) { range in
        let (b, packed, panels) = shared.value
        for panel in panels[range] {
            packBlock(
                b, ldb: ldb, transposed: transposed, k0: panel.k0, kc: panel.kc, j0: panel.j0, nc: panel.width,
                into: packed + panel.offset, halves: halves)
        }
    }
}

/// The (K block k0..<k0+kc, N block j0..<j0+nc) of B as ⌈nc/32⌉ panels of [kc][32]: from B [k, n], or
/// from Bᵀ [n, k] when `transposed` (row stride `ldb` either way).
@inline(__always)
private func packBlock(
    _ b: ConstFloatPointer, ldb: Int, transposed: Bool, k0: Int, kc: Int, j0: Int, nc: Int, into packed: FloatPointer,
    halves: Bool
) {
    if transposed {
        packTransposedB(b + j0 * ldb + k0, ldb: ldb, kc: kc, nc: nc, into: packed, halves: halves)
    } else {
        packB(b + k0 * ldb + j0, ldb: ldb, kc: kc, nc: nc, into: packed, halves: halves)
    }
}

private let blockK = 256
private let blockN = 256

/// Rows of C for one thread. Each (N block, K block) of B is packed into 32-column panels ([kc][32] or two
/// [kc][16] halves, zero-padded; or read from `packedB`, laid out by `packWhole` for the same tile) so the
/// micro-kernel streams B contiguously (best of 4 runs: GPT M training 16.2k → 20.1k tokens/s). A is read in
/// place (a tile's rows, or for Aᵀ·B its contiguous columns, are a few prefetchable streams) and packed into a
/// zero-padded
/// [kc][tile rows] micro-panel only at the row edge:
/// packing every A tile (BLIS) measured slower here (one-thread trunk shapes 108 → 78 GFLOP/s), as the
/// 8-row transpose costs more than it saves at K = 64.
private func gemmRows(
    _ rows: Range<Int>, n: Int, k: Int, a: StridedMatrix, b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int,
    accumulate: Bool, bias: ConstFloatPointer?, packedB prepacked: ConstFloatPointer? = nil, transposedB: Bool = false,
    epilogue: GemmEpilogue? = nil, tile: GemmTile
) {
    let panelsPerBlock = (min(n, blockN) + 31) / 32, deepest = min(k, blockK)
    let scratchB = FloatPointer.allocate(capacity: prepacked == nil ? deepest * 32 * panelsPerBlock : 0)
    let packedA = FloatPointer.allocate(capacity: deepest * tile.rows)
    let edge = FloatPointer.allocate(capacity: tile.rows * tile.columns)
    defer { scratchB.deallocate(); packedA.deallocate(); edge.deallocate() }
    // Rows in full 8-row groups, then the rest (< 8): the edge rule of the 8×32 tile, whatever the tile.
    let fullRowsEnd = rows.lowerBound + rows.count / 8 * 8
    var jc = 0, prepackedOffset = 0
    while jc < n {
        let nc = min(blockN, n - jc)
        let panels = (nc + 31) / 32
        var pc = 0
        while pc < k {
            let kc = min(blockK, k - pc)
            // The first K block of a non-accumulating product starts its tiles from the bias (or zero).
            let fresh = !accumulate && pc == 0
            let packedB: ConstFloatPointer
            if let prepacked {
                packedB = prepacked + prepackedOffset
                prepackedOffset += panels * kc * 32
            } else {
                packBlock(
                    b, ldb: ldb, transposed: transposedB, k0: pc, kc: kc, j0: jc, nc: nc, into: scratchB,
                    halves: tile.splitsPanels)
                packedB = ConstFloatPointer(scratchB)
            }
            var i = rows.lowerBound
            while i < rows.upperBound {
                let mr = tile.rowsOfNextTile(remaining: (i < fullRowsEnd ? fullRowsEnd : rows.upperBound) - i,
                                             inFullRows: i < fullRowsEnd)
                let tileA: StridedMatrix
                if mr < tile.rows {
                    packA(a, row: i, rows: mr, tileRows: tile.rows, p0: pc, kc: kc, into: packedA)
                    tileA = StridedMatrix(base: ConstFloatPointer(packedA), rowStride: 1, columnStride: tile.rows)
                } else {
                    tileA = StridedMatrix(
                        base: a.base + i * a.rowStride + pc * a.columnStride, rowStride: a.rowStride,
                        columnStride: a.columnStride)
                }
                for panel in 0..<panels {
                    let j = jc + 32 * panel, nr = min(32, jc + nc - j)
                    let bPanel = packedB + panel * kc * 32, halfOffset = tile.splitsPanels ? kc : 1
                    let start: TileStart = i < fullRowsEnd && nr == 32 ? .inRegisters : .zeroThenAdd
                    var q = 0
                    while q < nr {
                        let width = min(tile.columns, nr - q)
                        let tileBias = bias.map { $0 + j + q }
                        let target = c + i * ldc + j + q
                        if start == .inRegisters && width == tile.columns
                            && (mr == tile.rows || mr == tile.shortRows) {
                            runTile(tile, rows: mr, a: tileA, b: bPanel + q * halfOffset, kc: kc, c: target, ldc: ldc,
                                    fresh: fresh, bias: tileBias)
                        } else {
                            edgeTile(tile, start: start, rows: mr, columns: width, a: tileA, b: bPanel + q * halfOffset,
                                     kc: kc,
                                     c: target, ldc: ldc, fresh: fresh, bias: tileBias, scratch: edge)
                        }
                        q += tile.columns
                    }
                }
                // The tile's rows of this N block are final after the last K block: apply the epilogue
                // while they are in L1.
                if let epilogue, pc + kc == k {
                    for r in i..<(i + mr) { epilogue.apply(row: c + r * ldc + jc, at: r * ldc + jc, count: nc) }
                }
                i += mr
            }
            pc += kc
        }
        jc += nc
    }
}

/// One tile on C in place: `rows` is the tile's rows or its `shortRows`.
@inline(__always)
private func runTile(
    _ tile: GemmTile, rows: Int, a: StridedMatrix, b: ConstFloatPointer, kc: Int, c: FloatPointer, ldc: Int,
    fresh: Bool, bias: ConstFloatPointer?
) {
    switch tile {
    case .rows8Columns32: kernel8x32(a: a, b: b, kc: kc, c: c, ldc: ldc, fresh: fresh, bias: bias)
    case .rows6Columns16:
        if rows == 6 {
            kernel6x16(a: a, b: b, kc: kc, c: c, ldc: ldc, fresh: fresh, bias: bias)
        } else {
            kernel4x16(a: a, b: b, kc: kc, c: c, ldc: ldc, fresh: fresh, bias: bias)
        }
    }
}

/// A tile of `rows` × `columns` valid elements computed whole in `scratch` (rows of `tile.columns`), the valid
/// part written back: from the start values (`inRegisters`: the same chains as in place) or from zero, then
/// added to them (`zeroThenAdd`). The rows of A past `rows` are zero (packed); B's panel is zero-padded.
@inline(never)
private func edgeTile(
    _ tile: GemmTile, start: TileStart, rows: Int, columns: Int, a: StridedMatrix, b: ConstFloatPointer, kc: Int,
    c: FloatPointer, ldc: Int, fresh: Bool, bias: ConstFloatPointer?, scratch: FloatPointer
) {
    let width = tile.columns
    scratch.update(repeating: 0, count: tile.rows * width)
    if start == .inRegisters {
        for r in 0..<rows {
            for col in 0..<columns {
                scratch[r * width + col] = fresh ? (bias?[col] ?? 0) : c[r * ldc + col]
            }
        }
    }
    runTile(tile, rows: tile.rows, a: a, b: b, kc: kc, c: scratch, ldc: width, fresh: false, bias: nil)
    for r in 0..<rows {
        let row = c + r * ldc
        for col in 0..<columns {
            switch start {
            case .inRegisters: row[col] = scratch[r * width + col]
            case .zeroThenAdd: row[col] = (fresh ? (bias?[col] ?? 0) : row[col]) + scratch[r * width + col]
            }
        }
    }
}

/// B[kc, nc] (row stride ldb) into ⌈nc/32⌉ panels of [kc][32], zero-padded past nc; with `halves`, each
/// panel as two [kc][16] halves (columns 0-15, then 16-31: `GemmTile.splitsPanels`).
@inline(__always)
private func packB(_ b: ConstFloatPointer, ldb: Int, kc: Int, nc: Int, into packed: FloatPointer, halves: Bool) {
    let rowStep = halves ? 16 : 32, secondHalf = halves ? 16 * kc : 16
    var panel = 0
    while 32 * panel < nc {
        let j = 32 * panel, width = min(32, nc - j)
        var destination = packed + panel * kc * 32
        var source = b + j
        if width == 32 {
            for _ in 0..<kc {
                store16(load16(source), destination)
                store16(load16(source + 16), destination + secondHalf)
                source += ldb
                destination += rowStep
            }
        } else {
            for _ in 0..<kc {
                for col in 0..<32 {
                    let place = col < 16 ? col : secondHalf + col - 16
                    destination[place] = col < width ? source[col] : 0
                }
                source += ldb
                destination += rowStep
            }
        }
        panel += 1
    }
}

/// B[kc, nc] given as Bᵀ (bt[j · ldb + p] = B[p, j]) into the panels of `packB`: each of a panel's 32
/// rows of Bᵀ is read contiguously and written down one column of the panel (in L1).
@inline(__always)
private func packTransposedB(
    _ bt: ConstFloatPointer, ldb: Int, kc: Int, nc: Int, into packed: FloatPointer, halves: Bool
) {
    let rowStep = halves ? 16 : 32, secondHalf = halves ? 16 * kc : 16
    var panel = 0
    while 32 * panel < nc {
        let j0 = 32 * panel, width = min(32, nc - j0)
        let destination = packed + panel * kc * 32
        for col in 0..<32 {
            var target = destination + (col < 16 ? col : secondHalf + col - 16)
            if col < width {
                var source = bt + (j0 + col) * ldb
                for _ in 0..<kc {
                    target.pointee = source.pointee
                    source += 1
                    target += rowStep
                }
            } else {
                for _ in 0..<kc {
                    target.pointee = 0
                    target += rowStep
                }
            }
        }
        panel += 1
    }
}

/// Rows i..<i+rows of A over k = p0..<p0+kc into [kc][tileRows], zero rows past `rows`.
@inline(__always)
private func packA(
    _ a: StridedMatrix, row i: Int, rows: Int, tileRows: Int, p0: Int, kc: Int, into packed: FloatPointer
) {
    let rs = a.rowStride, cs = a.columnStride
    var source = a.base + i * rs + p0 * cs
    var destination = packed
    for _ in 0..<kc {
        for r in 0..<rows { destination[r] = source[r * rs] }
        for r in rows..<tileRows { destination[r] = 0 }
        source += cs
        destination += tileRows
    }
}

/// The 8×32 register tile: C[0..<8, 0..<32] (+)= A[0..<8, 0..<kc] · B with B a packed [kc][32] panel;
/// `fresh` starts from the bias row (or zero) instead of loading C.
@inline(__always)
private func kernel8x32(
    a: StridedMatrix, b: ConstFloatPointer, kc: Int, c c0: FloatPointer, ldc: Int, fresh: Bool, bias: ConstFloatPointer?
) {
    var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71: SIMD16<Float>
    if fresh {
        let low = bias.map { load16($0) } ?? SIMD16<Float>(repeating: 0),
            high = bias.map { load16($0 + 16) } ?? SIMD16<Float>(repeating: 0)
        (c00, c10, c20, c30, c40, c50, c60, c70) = (low, low, low, low, low, low, low, low)
        (c01, c11, c21, c31, c41, c51, c61, c71) = (high, high, high, high, high, high, high, high)
    } else {
        c00 = load16(c0); c01 = load16(c0 + 16)
        c10 = load16(c0 + ldc); c11 = load16(c0 + ldc + 16)
        c20 = load16(c0 + 2 * ldc); c21 = load16(c0 + 2 * ldc + 16)
        c30 = load16(c0 + 3 * ldc); c31 = load16(c0 + 3 * ldc + 16)
        c40 = load16(c0 + 4 * ldc); c41 = load16(c0 + 4 * ldc + 16)
        c50 = load16(c0 + 5 * ldc); c51 = load16(c0 + 5 * ldc + 16)
        c60 = load16(c0 + 6 * ldc); c61 = load16(c0 + 6 * ldc + 16)
        c70 = load16(c0 + 7 * ldc); c71 = load16(c0 + 7 * ldc + 16)
    }
    // Row offsets of A computed once per tile.
    let cs = a.columnStride
    let o1 = a.rowStride, o2 = 2 &* o1, o3 = 3 &* o1, o4 = 4 &* o1, o5 = 5 &* o1, o6 = 6 &* o1, o7 = 7 &* o1
    var ap = a.base
    var bp = b
    for _ in 0..<kc {
        let b0 = load16(bp), b1 = load16(bp + 16)
        var s = SIMD16<Float>(repeating: ap[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o1])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o3])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o4])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o5])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o6])
        c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
        s = SIMD16<Float>(repeating: ap[o7])
        c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
        ap += cs
        bp += 32
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

/// The 6×16 register tile: C[0..<6, 0..<16] (+)= A[0..<6, 0..<kc] · B with B one [kc][16] half of a packed
/// panel (`GemmTile.splitsPanels`, row stride 16); `fresh` starts from the bias (or zero) instead of loading C.
/// Twelve SIMD8 accumulators, two B vectors and one broadcast: 15 of AVX2's 16 ymm registers.
/// On Zen 4 the AVX2 loop issues about five operations per cycle (twelve FMAs every six cycles), so its
/// overhead counts: k is unrolled by two, which halves the pointer and counter updates per FMA (A's rows
/// are addressed from two pointers, rows 0-2 and 3-5; LLVM still re-derives some with adds). Each accumulator
/// still sees its FMAs in k order, so the bits do not change.
@inline(__always)
private func kernel6x16(
    a: StridedMatrix, b: ConstFloatPointer, kc: Int, c c0: FloatPointer, ldc: Int, fresh: Bool, bias: ConstFloatPointer?
) {
    var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51: SIMD8<Float>
    if fresh {
        let low = bias.map { load8($0) } ?? SIMD8<Float>(repeating: 0),
            high = bias.map { load8($0 + 8) } ?? SIMD8<Float>(repeating: 0)
        (c00, c10, c20, c30, c40, c50) = (low, low, low, low, low, low)
        (c01, c11, c21, c31, c41, c51) = (high, high, high, high, high, high)
    } else {
        c00 = load8(c0); c01 = load8(c0 + 8)
        c10 = load8(c0 + ldc); c11 = load8(c0 + ldc + 8)
        c20 = load8(c0 + 2 * ldc); c21 = load8(c0 + 2 * ldc + 8)
        c30 = load8(c0 + 3 * ldc); c31 = load8(c0 + 3 * ldc + 8)
        c40 = load8(c0 + 4 * ldc); c41 = load8(c0 + 4 * ldc + 8)
        c50 = load8(c0 + 5 * ldc); c51 = load8(c0 + 5 * ldc + 8)
    }
    let rs = a.rowStride, rs2 = 2 &* rs, cs = a.columnStride, cs2 = 2 &* cs
    var top = a.base, bottom = a.base + 3 &* rs
    var bp = b, pairs = kc >> 1
    var b0: SIMD8<Float>, b1: SIMD8<Float>, s: SIMD8<Float>
    while pairs > 0 {
        b0 = load8(bp); b1 = load8(bp + 8)
        s = SIMD8<Float>(repeating: top[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[0])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs2])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        b0 = load8(bp + 16); b1 = load8(bp + 16 + 8)
        s = SIMD8<Float>(repeating: top[cs])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs &+ cs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2 &+ cs])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[cs])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs &+ cs])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs2 &+ cs])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        top += cs2; bottom += cs2
        bp += 32
        pairs &-= 1
    }
    if kc & 1 != 0 {
        b0 = load8(bp); b1 = load8(bp + 8)
        s = SIMD8<Float>(repeating: top[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[0])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: bottom[rs2])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
    }
    store8(c00, c0); store8(c01, c0 + 8)
    store8(c10, c0 + ldc); store8(c11, c0 + ldc + 8)
    store8(c20, c0 + 2 * ldc); store8(c21, c0 + 2 * ldc + 8)
    store8(c30, c0 + 3 * ldc); store8(c31, c0 + 3 * ldc + 8)
    store8(c40, c0 + 4 * ldc); store8(c41, c0 + 4 * ldc + 8)
    store8(c50, c0 + 5 * ldc); store8(c51, c0 + 5 * ldc + 8)
}

/// The 4×16 tile (`GemmTile.shortRows` of the 6×16 tile): `kernel6x16` for rows 0..<4, run in place for the
/// last rows of a region of full 8-row groups (the same chains as the scratch edge tile computed).
@inline(__always)
private func kernel4x16(
    a: StridedMatrix, b: ConstFloatPointer, kc: Int, c c0: FloatPointer, ldc: Int, fresh: Bool, bias: ConstFloatPointer?
) {
    var c00, c01, c10, c11, c20, c21, c30, c31: SIMD8<Float>
    if fresh {
        let low = bias.map { load8($0) } ?? SIMD8<Float>(repeating: 0),
            high = bias.map { load8($0 + 8) } ?? SIMD8<Float>(repeating: 0)
        (c00, c10, c20, c30) = (low, low, low, low)
        (c01, c11, c21, c31) = (high, high, high, high)
    } else {
        c00 = load8(c0); c01 = load8(c0 + 8)
        c10 = load8(c0 + ldc); c11 = load8(c0 + ldc + 8)
        c20 = load8(c0 + 2 * ldc); c21 = load8(c0 + 2 * ldc + 8)
        c30 = load8(c0 + 3 * ldc); c31 = load8(c0 + 3 * ldc + 8)
    }
    let rs = a.rowStride, rs2 = 2 &* rs, rs3 = 3 &* rs, cs = a.columnStride, cs2 = 2 &* cs
    var top = a.base
    var bp = b, pairs = kc >> 1
    var b0: SIMD8<Float>, b1: SIMD8<Float>, s: SIMD8<Float>
    while pairs > 0 {
        b0 = load8(bp); b1 = load8(bp + 8)
        s = SIMD8<Float>(repeating: top[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs3])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        b0 = load8(bp + 16); b1 = load8(bp + 16 + 8)
        s = SIMD8<Float>(repeating: top[cs])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs &+ cs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2 &+ cs])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs3 &+ cs])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        top += cs2
        bp += 32
        pairs &-= 1
    }
    if kc & 1 != 0 {
        b0 = load8(bp); b1 = load8(bp + 8)
        s = SIMD8<Float>(repeating: top[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = SIMD8<Float>(repeating: top[rs3])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
    }
    store8(c00, c0); store8(c01, c0 + 8)
    store8(c10, c0 + ldc); store8(c11, c0 + ldc + 8)
    store8(c20, c0 + 2 * ldc); store8(c21, c0 + 2 * ldc + 8)
    store8(c30, c0 + 3 * ldc); store8(c31, c0 + 3 * ldc + 8)
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
