import Testing
@testable import Autograd
import Randomness

/// The kernel paths (`KernelPath.swift`) differ in their register tiles only: every tile must give bit-for-bit
/// the results of every other, so that seeded runs agree between AVX-512, AVX2 and NEON builds. Both tiles are
/// compiled into every build, so one build checks them against each other.
@Suite struct KernelPathTests {
    func random(_ count: Int, _ generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in generator.nextUniformFloat() - 0.5 }
    }

    /// C for one tile: A·B (A read as rows, or as columns for Aᵀ·B), B plain or given as Bᵀ, with a bias or
    /// accumulating into C.
    func product(
        _ tile: GemmTile, m: Int, n: Int, k: Int, a: [Float], b: [Float], c start: [Float], bias: [Float]?,
        transposedA: Bool, transposedB: Bool, accumulate: Bool, parallel: Bool = false
    ) -> [UInt32] {
        var c = start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    let strided = StridedMatrix(
                        base: a.baseAddress!, rowStride: transposedA ? 1 : k, columnStride: transposedA ? m : 1)
                    let bBase = b.baseAddress!, cBase = c.baseAddress!
                    let call = { (biasPointer: UnsafePointer<Float>?) in
                        gemm(
                            m: m, n: n, k: k, a: strided, b: bBase, ldb: transposedB ? k : n,
                            c: cBase, ldc: n, accumulate: accumulate, parallel: parallel, bias: biasPointer,
                            transposedB: transposedB, tile: tile)
                    }
                    if let bias { bias.withUnsafeBufferPointer { call($0.baseAddress!) } } else { call(nil) }
                }
            }
        }
        return c.map(\.bitPattern)
    }

    @Test func everyGemmTileGivesTheSameBits() {
        var g = SeededGenerator(seed: 22)
        // Full tiles, ragged rows (mod 8 and mod 6) and columns (mod 32 and mod 16), several K and N blocks; full
        // 8-row groups that the 6×16 tile ends with one 4-row tile (16, 40: … 6 4) or two (8, 32: … 4 4), odd K.
        let shapes = [
            (1, 1, 1), (7, 33, 5), (8, 32, 64), (13, 70, 300), (17, 300, 64), (40, 513, 257), (25, 48, 600),
            (16, 48, 7), (32, 64, 33),
        ]
        for (m, n, k) in shapes {
            let a = random(m * k, &g), b = random(k * n, &g), c = random(m * n, &g), bias = random(n, &g)
            for (transposedA, transposedB, accumulate, withBias) in [
                (false, false, false, true), (false, true, false, false), (true, false, true, false),
                (false, false, true, false), (true, true, false, true),
            ] {
                let results = GemmTile.allCases.map {
                    product(
                        $0, m: m, n: n, k: k, a: a, b: b, c: c, bias: withBias ? bias : nil, transposedA: transposedA,
                        transposedB: transposedB, accumulate: accumulate)
                }
                #expect(
                    results.allSatisfy { $0 == results[0] },
                    "m \(m) n \(n) k \(k) Aᵀ \(transposedA) Bᵀ \(transposedB) accumulate \(accumulate)")
            }
        }
    }

    /// Split over the two kernel threads, with B packed once and shared (`packWholeShared`): the same bits as on
    /// one thread.
    @Test func theSharedPackingOfTwoThreadsGivesTheSameBits() {
        var g = SeededGenerator(seed: 24)
        for (m, n, k) in [(64, 300, 257), (37, 520, 96)] {
            let a = random(m * k, &g), b = random(k * n, &g), c = random(m * n, &g), bias = random(n, &g)
            for (transposedB, accumulate) in [(false, false), (true, false), (false, true)] {
                let results = [false, true].map {
                    product(
                        .preferred, m: m, n: n, k: k, a: a, b: b, c: c, bias: accumulate ? nil : bias,
                        transposedA: false, transposedB: transposedB, accumulate: accumulate, parallel: $0)
                }
                #expect(results[0] == results[1], "m \(m) n \(n) k \(k) Bᵀ \(transposedB)")
            }
        }
    }

    /// The attention's three 8-row tiles (8 × 16 of SIMD16, 8 × 8 of SIMD8, and two passes of 4 × 16 of SIMD8
    /// pairs) give the same bits; width 24 sends the last 8 columns of the 4 × 16 form to the 8 × 8 tile.
    @Test func attentionRowSumTilesGiveTheSameBits() {
        var g = SeededGenerator(seed: 23)
        let count = 37, rowStride = 40, outStride = 48
        let coefficients = random(8 * count, &g), rows = random(count * rowStride, &g)
        let start = random(8 * outStride, &g)
        for (width, accumulate) in [(32, false), (32, true), (16, false), (24, true)] {
            var wide = start, narrow = start, pairs = start
            coefficients.withUnsafeBufferPointer { cp in
                rows.withUnsafeBufferPointer { rp in
                    if width % 16 == 0 {
                        weightedRowSums8x16(
                            cp.baseAddress!, rowStep: count, termStep: 1, count: count, rows: rp.baseAddress!,
                            rowStride: rowStride, width: width, into: &wide, outStride: outStride,
                            accumulate: accumulate)
                    }
                    weightedRowSums8x8(
                        cp.baseAddress!, rowStep: count, termStep: 1, count: count, rows: rp.baseAddress!,
                        rowStride: rowStride, width: width, into: &narrow, outStride: outStride,
                        accumulate: accumulate)
                    weightedRowSums8As4x16(
                        cp.baseAddress!, rowStep: count, termStep: 1, count: count, rows: rp.baseAddress!,
                        rowStride: rowStride, width: width, into: &pairs, outStride: outStride,
                        accumulate: accumulate)
                }
            }
            if width % 16 == 0 {
                #expect(wide.map(\.bitPattern) == narrow.map(\.bitPattern), "width \(width) accumulate \(accumulate)")
            }
            #expect(pairs.map(\.bitPattern) == narrow.map(\.bitPattern), "width \(width) accumulate \(accumulate)")
            #expect(pairs != start)
        }
    }

    @Test func thePathMatchesItsTileAndTheCPURunsIt() {
        #expect(["avx512", "avx2", "neon", "portable"].contains(KernelPath.name))
        #expect((KernelPath.name == "avx512") == (KernelPath.gemmTile == .rows8Columns32))
        #expect(KernelPath.cpuSupportsPath)
        #expect(!CPUIdentity.current.brand.isEmpty)
    }
}
