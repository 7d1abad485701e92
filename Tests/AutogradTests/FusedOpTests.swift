import Testing
@testable import Autograd
import Randomness

/// Fused kernels are checked twice: by finite differences, and tightly against the same maths built
/// from primitive ops (values and gradients within 1e-5).
@Suite struct FusedOpTests {
    func expectClose(
        _ a: [Float], _ b: [Float], tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        let scale = max(1, b.map { abs($0) }.max() ?? 1)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance * scale, "max difference \(worst)", sourceLocation: sourceLocation)
    }

    @Test func matmulAndLinear() {
        var g = SeededGenerator(seed: 6)
        let a = randomTensor([5, 7], &g), b = randomTensor([7, 3], &g)
        checkGradients([a, b]) { $0[0].matmul($0[1]) }
        let a3 = randomTensor([2, 4, 3], &g), b3 = randomTensor([2, 3, 5], &g)
        checkGradients([a3, b3]) { $0[0].matmul($0[1]) }
        let x = randomTensor([2, 3, 6], &g), w = randomTensor([4, 6], &g), bias = randomTensor([4], &g)
        checkGradients([x, w, bias]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
        let composite = x.matmul(w.transposed()) + bias
        expectClose(Tensor.linear(x, weight: w, bias: bias).data, composite.data)
    }

    @Test func gemmMatchesNaiveProductOnTileEdges() {
        var g = SeededGenerator(seed: 7)
        for (m, n, k) in [(1, 1, 1), (8, 32, 5), (9, 33, 17), (17, 47, 300), (64, 64, 64), (130, 70, 260)] {
            let a = randomTensor([m, k], &g, requiresGrad: false), b = randomTensor([k, n], &g, requiresGrad: false)
            let c = a.matmul(b)
            var naive = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0; for p in 0..<k { s += a.data[i * k + p] * b.data[p * n + j] };
                    naive[i * n + j] = s
                }
            }
            expectClose(c.data, naive, tolerance: 1e-5 * Float(k).squareRoot())
        }
    }

    /// B given transposed (a weight W [out, in] as stored, `matmulTransposedB`) gives the same product as
    /// the row-major B, bit for bit (the packed panels are the same), across N and K blocks and ragged edges.
    @Test func transposedBGemmMatchesTheRowMajorProduct() {
        var g = SeededGenerator(seed: 8)
        for (m, n, k) in [(1, 1, 1), (3, 33, 17), (17, 300, 64), (9, 70, 600), (40, 513, 257)] {
            let a = randomTensor([m, k], &g, requiresGrad: false), b = randomTensor([k, n], &g, requiresGrad: false)
            let bias = randomTensor([n], &g, requiresGrad: false)
            let bt = b.transposedMatrix()
            var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: .nan, count: m * n)
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    bt.withUnsafeBufferPointer { bt in
                        bias.data.withUnsafeBufferPointer { bias in
                            CPUKernels.matmul(
                                m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: &expected,
                                ldc: n,
                                accumulate: false, bias: bias.baseAddress!)
                            CPUKernels.matmulTransposedB(
                                m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: bt.baseAddress!, ldb: k, c: &got,
                                ldc: n,
                                accumulate: false, parallel: true, bias: bias.baseAddress!)
                        }
                    }
                }
            }
            #expect(got == expected, "m \(m) n \(n) k \(k)")
        }
    }

    /// A product with a `.multiply` epilogue equals the product followed by the elementwise multiply, bit
    /// for bit: the epilogue runs once per tile, after the last K block (k = 600 takes three).
    @Test func multiplyEpilogueMatchesASeparatePass() {
        var g = SeededGenerator(seed: 12)
        for (m, n, k) in [(1, 1, 1), (9, 33, 17), (17, 300, 64), (40, 70, 600)] {
            let a = randomTensor([m, k], &g, requiresGrad: false), b = randomTensor([k, n], &g, requiresGrad: false)
            let factor = randomTensor([m, n], &g, requiresGrad: false)
            var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: .nan, count: m * n)
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    factor.data.withUnsafeBufferPointer { f in
                        CPUKernels.matmul(
                            m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: &expected,
                            ldc: n, accumulate: false)
                        for i in 0..<(m * n) { expected[i] *= f[i] }
                        CPUKernels.matmul(
                            m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: &got, ldc: n,
                            accumulate: false,
                            parallel: true, epilogue: .multiply(factor: f.baseAddress!))
                    }
                }
            }
            #expect(got == expected, "m \(m) n \(n) k \(k)")
        }
    }

    /// B packed once (`CPUKernels.pack`, as the decode step's weights) gives the same product as B
    /// packed per call, across several N and K blocks and ragged panel and tile edges, with a bias; and
    /// packing it from Bᵀ gives the same panels.
    @Test func prepackedGemmMatchesThePerCallPacking() {
        var g = SeededGenerator(seed: 9)
        for (m, n, k) in [(1, 1, 1), (3, 33, 17), (17, 300, 64), (9, 70, 600), (40, 513, 257)] {
            let a = randomTensor([m, k], &g, requiresGrad: false), b = randomTensor([k, n], &g, requiresGrad: false)
            let bias = randomTensor([n], &g, requiresGrad: false)
            var packed = [Float](repeating: .nan, count: CPUKernels.packedCount(k: k, n: n))
            var expected = [Float](repeating: 0, count: m * n), got = expected
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    bias.data.withUnsafeBufferPointer { bias in
                        packed.withUnsafeMutableBufferPointer {
                            CPUKernels.pack(b.baseAddress!, ldb: n, k: k, n: n, into: $0.baseAddress!)
                        }
                        CPUKernels.matmul(
                            m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: &expected,
                            ldc: n,
                            accumulate: false, bias: bias.baseAddress!)
                        packed.withUnsafeBufferPointer { p in
                            CPUKernels.matmul(
                                m: m, n: n, k: k, a: a.baseAddress!, lda: k, packedB: p.baseAddress!, c: &got, ldc: n,
                                accumulate: false, parallel: true, bias: bias.baseAddress!)
                        }
                    }
                }
            }
            #expect(got == expected, "m \(m) n \(n) k \(k)")
            // Packing from Bᵀ (a weight as stored, the decode step's case) lays out the same panels.
            let bt = b.transposedMatrix()
            var packedFromTranspose = [Float](repeating: .nan, count: packed.count)
            bt.withUnsafeBufferPointer { bt in
                packedFromTranspose.withUnsafeMutableBufferPointer {
                    CPUKernels.pack(bt.baseAddress!, ldb: k, k: k, n: n, transposed: true, into: $0.baseAddress!)
                }
            }
            #expect(packedFromTranspose == packed, "m \(m) n \(n) k \(k)")
        }
    }

    @Test func softmaxLogSoftmaxCrossEntropy() {
        var g = SeededGenerator(seed: 8)
        let logits = randomTensor([4, 5], &g, low: -2, high: 2)
        checkGradients([logits]) { $0[0].softmax() }
        checkGradients([logits]) { $0[0].logSoftmax() }
        let targets = [1, 4, 0, 2]
        checkGradients([logits]) { $0[0].crossEntropy(targets: targets) }
        checkGradients([logits]) { $0[0].crossEntropy(targets: [1, -100, 0, -100], ignoreIndex: -100) }

        let fused = logits.crossEntropy(targets: targets)
        let composite = -logits.logSoftmax().pick(targets).mean()
        expectClose([fused.scalar], [composite.scalar])
        logits.zeroGrad(); fused.backward(); let fusedGrad = logits.grad!
        logits.zeroGrad(); composite.backward()
        expectClose(fusedGrad, logits.grad!)
        let fromLogSumExp = logits - logits.logSumExp(axis: -1, keepingDimensions: true)
        expectClose(logits.logSoftmax().data, fromLogSumExp.data)
    }

    @Test func layerNormMatchesComposite() {
        var g = SeededGenerator(seed: 9)
        let x = randomTensor([3, 8], &g, low: -2, high: 2)
        let w = randomTensor([8], &g, low: 0.5, high: 1.5), b = randomTensor([8], &g)
        checkGradients([x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        func composite() -> Tensor {
            let mean = x.mean(axis: -1, keepingDimensions: true)
            let centred = x - mean
            let variance = centred.square().mean(axis: -1, keepingDimensions: true)
            return centred / (variance + 1e-5).sqrt() * w + b
        }
        let fused = x.layerNorm(weight: w, bias: b)
        expectClose(fused.data, composite().data)
        for t in [x, w, b] { t.zeroGrad() }
        (fused * fused).sum().backward()
        let grads = [x.grad!, w.grad!, b.grad!]
        for t in [x, w, b] { t.zeroGrad() }
        let c = composite()
        (c * c).sum().backward()
        for (fusedGrad, t) in zip(grads, [x, w, b]) { expectClose(fusedGrad, t.grad!, tolerance: 1e-4) }
    }

    /// The same attention from primitives: per head, softmax(q kᵀ/√D + mask) v.
    func compositeAttention(_ qkv: Tensor, heads: Int) -> Tensor {
        let (batch, time, channels) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
        let headSize = channels / heads
        var mask = [Float](repeating: 0, count: time * time)
        for t in 0..<time { for u in (t + 1)..<max(t + 1, time) { mask[t * time + u] = -1e9 } }
        let maskTensor = Tensor(shape: [time, time], data: mask)
        var outputs: [Tensor] = []
        for h in 0..<heads {
            let q = qkv.slice(axis: 2, (h * headSize)..<((h + 1) * headSize))
            let k = qkv.slice(axis: 2, (channels + h * headSize)..<(channels + (h + 1) * headSize))
            let v = qkv.slice(axis: 2, (2 * channels + h * headSize)..<(2 * channels + (h + 1) * headSize))
            let scores = q.matmul(k.transposed(1, 2)) * (1 / Float(headSize).squareRoot()) + maskTensor
            outputs.append(scores.softmax().matmul(v))
        }
        _ = batch
        return Tensor.concatenate(outputs, axis: 2)
    }

    /// Shapes cover one, two and three 16-query chunks, a T that is not a multiple of 16 (padding lanes),
    /// head sizes below, at and above the 16-wide register tiles (D = 2, 16, 32) and odd ones (D = 6).
    @Test(arguments: [(2, 5, 4, 2), (1, 8, 32, 2), (2, 3, 48, 3), (1, 37, 32, 2), (2, 24, 64, 2), (1, 19, 18, 3)])
    func causalAttentionMatchesComposite(batch: Int, time: Int, channels: Int, heads: Int) {
        var g = SeededGenerator(seed: 10)
        let qkv = randomTensor([batch, time, 3 * channels], &g)
        let fused = qkv.causalSelfAttention(heads: heads)
        let composite = compositeAttention(qkv, heads: heads)
        expectClose(fused.data, composite.data)
        let upstream = (0..<fused.count).map { _ in g.nextUniformFloat() - 0.5 }
        qkv.zeroGrad(); fused.backward(gradient: upstream); let fusedGrad = qkv.grad!
        qkv.zeroGrad(); composite.backward(gradient: upstream)
        expectClose(fusedGrad, qkv.grad!)
    }

    /// `firstQuery` computes only the queries t ≥ first: their output rows equal the full forward's, and
    /// the backward equals the full backward of an output gradient that is zero before `first` (dq rows
    /// from `first` on, every dk and dv row).
    @Test(arguments: [(37, 16, 5), (37, 16, 16), (37, 16, 21), (24, 32, 9), (13, 6, 4)])
    func firstQueryComputesOnlyTheLaterQueries(time: Int, headSize d: Int, first: Int) {
        var g = SeededGenerator(seed: 13)
        let stride = 3 * d
        let qkv = (0..<(time * stride)).map { _ in g.nextUniformFloat() - 0.5 }
        var outGradient = (0..<(time * d)).map { _ in g.nextUniformFloat() - 0.5 }
        for i in 0..<(first * d) { outGradient[i] = 0 }
        let scale = 1 / Float(d).squareRoot()
        func run(firstQuery: Int) -> (out: [Float], gradient: [Float]) {
            var out = [Float](repeating: 0, count: time * d), gradient = [Float](repeating: 0, count: time * stride)
            var weights = [Float](repeating: .nan, count: attentionWeightsCount(time: time))
            var scratch = [Float](repeating: .nan, count: attentionScratchCount(time: time, headSize: d))
            qkv.withUnsafeBufferPointer { x in
                outGradient.withUnsafeBufferPointer { dOut in
                    out.withUnsafeMutableBufferPointer { o in
                        gradient.withUnsafeMutableBufferPointer { dx in
                            weights.withUnsafeMutableBufferPointer { a in
                                scratch.withUnsafeMutableBufferPointer { s in
                                    let (x, dOut, o, dx, a, s) = (
                                        x.baseAddress!, dOut.baseAddress!, o.baseAddress!, dx.baseAddress!,
                                        a.baseAddress!, s.baseAddress!
                                    )
                                    causalAttentionForward(
                                        q: x, k: x + d, v: x + 2 * d, stride: stride, time: time, headSize: d,
                                        scale: scale,
                                        out: o, outStride: d, weights: a, scratch: s, firstQuery: firstQuery)
                                    causalAttentionBackward(
                                        q: x, k: x + d, v: x + 2 * d, stride: stride, time: time, headSize: d,
                                        scale: scale, weights: a,
                                        outGradient: dOut, outStride: d, dq: dx, dk: dx + d, dv: dx + 2 * d, scratch: s,
                                        firstQuery: firstQuery)
                                }
                            }
                        }
                    }
                }
            }
            #expect(weights.allSatisfy { $0.isFinite }, "every weight is defined")
            return (out, gradient)
        }
        let full = run(firstQuery: 0), partial = run(firstQuery: first)
        expectClose(Array(partial.out[(first * d)...]), Array(full.out[(first * d)...]))
        for t in 0..<time {
            let row = t * stride
            if t >= first {
                expectClose(Array(partial.gradient[row..<(row + d)]), Array(full.gradient[row..<(row + d)]))
            }
            expectClose(
                Array(partial.gradient[(row + d)..<(row + 3 * d)]), Array(full.gradient[(row + d)..<(row + 3 * d)]))
        }
    }

    @Test func causalAttentionFiniteDifferences() {
        var g = SeededGenerator(seed: 11)
        let qkv = randomTensor([2, 4, 12], &g)
        checkGradients([qkv]) { $0[0].causalSelfAttention(heads: 2) }
    }

    @Test func attentionIsCausal() {
        var g = SeededGenerator(seed: 12)
        let qkv = randomTensor([1, 6, 12], &g, requiresGrad: false)
        let full = qkv.causalSelfAttention(heads: 2)
        let prefix = qkv.slice(axis: 1, 0..<3).causalSelfAttention(heads: 2)
        expectClose(Array(full.data[0..<(3 * 4)]), prefix.data, tolerance: 1e-6)
    }

    /// The packed product with an `.add` epilogue (the fused trunk's residual connections) equals the product
    /// with its bias followed by `CPUKernels.add`, bit for bit, across N and K blocks and ragged edges.
    @Test func addEpilogueMatchesASeparatePass() {
        var g = SeededGenerator(seed: 13)
        for (m, n, k) in [(1, 1, 1), (9, 33, 17), (17, 300, 64), (40, 70, 600)] {
            let a = randomTensor([m, k], &g, requiresGrad: false), b = randomTensor([k, n], &g, requiresGrad: false)
            let bias = randomTensor([n], &g, requiresGrad: false)
            let addend = randomTensor([m, n], &g, requiresGrad: false)
            var packed = [Float](repeating: .nan, count: CPUKernels.packedCount(k: k, n: n))
            var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: .nan, count: m * n)
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    bias.data.withUnsafeBufferPointer { bias in
                        addend.data.withUnsafeBufferPointer { addend in
                            packed.withUnsafeMutableBufferPointer {
                                CPUKernels.pack(b.baseAddress!, ldb: n, k: k, n: n, into: $0.baseAddress!)
                            }
                            CPUKernels.matmul(
                                m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                                c: &expected, ldc: n, accumulate: false, bias: bias.baseAddress!)
                            expected.withUnsafeMutableBufferPointer {
                                CPUKernels.add(
                                    $0.baseAddress!, addend.baseAddress!, into: $0.baseAddress!, count: m * n)
                            }
                            packed.withUnsafeBufferPointer { packed in
                                CPUKernels.matmul(
                                    m: m, n: n, k: k, a: a.baseAddress!, lda: k, packedB: packed.baseAddress!, c: &got,
                                    ldc: n, accumulate: false, parallel: true, bias: bias.baseAddress!,
                                    epilogue: .add(addend: addend.baseAddress!))
                            }
                        }
                    }
                }
            }
            #expect(got == expected, "m \(m) n \(n) k \(k)")
        }
    }

    /// The one-pass layer-norm backward (`CPUKernels.layerNormBackward`) gives the bits of the two passes it
    /// replaced: the γ and β sums down the rows, then dx.
    @Test func layerNormBackwardMatchesTheTwoPasses() {
        var g = SeededGenerator(seed: 14)
        for (rows, c) in [(1, 16), (37, 64), (9, 40)] {
            let dy = randomTensor([rows, c], &g).data, weight = randomTensor([c], &g).data
            let normalized = randomTensor([rows, c], &g).data
            let inverseStd = randomTensor([rows], &g, low: 0.5, high: 2).data
            let start = randomTensor([rows, c], &g).data, weightStart = randomTensor([c], &g).data,
                biasStart = randomTensor([c], &g).data
            var (dx, weightGradient, biasGradient) = (start, weightStart, biasStart)
            var (expectedDx, expectedWeight, expectedBias) = (start, weightStart, biasStart)
            layerNormParameterBackward(
                dy, normalized: normalized, rows: rows, c: c, weightGradient: &expectedWeight,
                biasGradient: &expectedBias)
            layerNormInputBackward(
                dy, weight: weight, normalized: normalized, inverseStd: inverseStd, rows: rows, c: c,
                inputGradient: &expectedDx)
            CPUKernels.layerNormBackward(
                dy, weight: weight, normalized: normalized, inverseStd: inverseStd, rows: rows, c: c,
                inputGradient: &dx, weightGradient: &weightGradient, biasGradient: &biasGradient)
            #expect(
                dx == expectedDx && weightGradient == expectedWeight && biasGradient == expectedBias, "\(rows)×\(c)")
        }
    }
}
