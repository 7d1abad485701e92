import Autograd
import Dispatch
import NN
import Randomness

/// Wall-clock timing helpers and the numeric-core benchmarks behind `policylab bench`.
public enum NumericBenchmarks {
    /// Seconds elapsed while running `body`.
    public static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Seconds per call of `body` in each of `rounds` rounds that together last at least
    /// `minimumSeconds` (after one warm-up call).
    static func secondsPerCall(rounds: Int, minimumSeconds: Double, _ body: () -> Void) -> [Double] {
        body()
        var perCall: [Double] = []
        for _ in 0..<rounds {
            var calls = 0
            let elapsed = time {
                let start = DispatchTime.now().uptimeNanoseconds
                repeat {
                    body()
                    calls += 1
                } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minimumSeconds / Double(rounds)
            }
            perCall.append(elapsed / Double(calls))
        }
        return perCall
    }

    /// The median seconds per call over `rounds` rounds of at least `minimumSeconds` in all.
    public static func medianSeconds(rounds: Int = 5, minimumSeconds: Double, _ body: () -> Void) -> Double {
        let perCall = secondsPerCall(rounds: rounds, minimumSeconds: minimumSeconds, body).sorted()
        return perCall[perCall.count / 2]
    }

    /// Seconds per call, the fastest of many short rounds: robust to the noise of a shared VM, for
    /// comparing kernels with each other (not with wall-clock anchors).
    public static func bestSeconds(rounds: Int = 30, minimumSeconds: Double, _ body: () -> Void) -> Double {
        secondsPerCall(rounds: rounds, minimumSeconds: minimumSeconds, body).min() ?? .nan
    }

    /// GFLOP/s of C = A·B for n×n×n (2n³ flops per product).
    public static func matmulGigaflops(size n: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in generator.nextUniformFloat() - 0.5 }
        let b = (0..<(n * n)).map { _ in generator.nextUniformFloat() - 0.5 }
        var c = [Float](repeating: 0, count: n * n)
        let seconds = medianSeconds(minimumSeconds: minimumSeconds) {
            MatrixKernels.multiply(m: n, n: n, k: n, a: a, b: b, into: &c)
        }
        return 2 * Double(n * n * n) / seconds / 1e9
    }

    /// One thread's fused-multiply-add peak in GFLOP/s: twelve independent SIMD16 chains (enough to
    /// cover the FMA latency on two ports), no memory traffic. The ceiling the gemm figures are read
    /// against: on a shared VM it moves with the host's load, so compare kernels with it in one sitting.
    public static func fusedMultiplyAddPeakGigaflops(minimumSeconds: Double = 1) -> Double {
        let steps = 1 << 20
        let seconds = bestSeconds(minimumSeconds: minimumSeconds) { fmaChains(steps: steps) }
        return Double(steps) * 12 * 32 / seconds / 1e9
    }

    /// One thread's GFLOP/s over the twelve products of a fused trunk step (forward, weight gradient
    /// Aᵀ·B, input gradient) for half a batch of `rows` rows at width C and MLP width 4C.
    public static func trunkGemmGigaflops(rows: Int, width c: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 5)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in generator.nextUniformFloat() - 0.5 } }
        // (outputs, inputs) of the four Linear layers of a block.
        let layers = [(3 * c, c), (c, c), (4 * c, c), (c, 4 * c)]
        var seconds = 0.0, flops = 0.0
        for (outputs, inputs) in layers {
            let x = random(rows * inputs), w = random(outputs * inputs), dy = random(rows * outputs)
            var y = [Float](repeating: 0, count: rows * outputs), dw = [Float](repeating: 0, count: outputs * inputs), dx = [Float](repeating: 0, count: rows * inputs)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { gp in
                y.withUnsafeMutableBufferPointer { yp in dw.withUnsafeMutableBufferPointer { dwp in dx.withUnsafeMutableBufferPointer { dxp in
                    let (x, w, g, y, dw, dx) = (xp.baseAddress!, wp.baseAddress!, gp.baseAddress!, yp.baseAddress!, dwp.baseAddress!, dxp.baseAddress!)
                    // y = x·Wᵀ (W's transpose stands in: same shapes), dW = dyᵀ·x, dx = dy·W.
                    seconds += bestSeconds(minimumSeconds: minimumSeconds / 12) {
                        CPUKernels.matmul(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: outputs, c: y, ldc: outputs, accumulate: false)
                    }
                    seconds += bestSeconds(minimumSeconds: minimumSeconds / 12) {
                        CPUKernels.matmulTransposedA(m: outputs, n: inputs, k: rows, a: g, lda: outputs, b: x, ldb: inputs, c: dw, ldc: inputs, accumulate: false)
                    }
                    seconds += bestSeconds(minimumSeconds: minimumSeconds / 12) {
                        CPUKernels.matmul(m: rows, n: inputs, k: outputs, a: g, lda: outputs, b: w, ldb: inputs, c: dx, ldc: inputs, accumulate: false)
                    }
                } } }
            } } }
            flops += 3 * 2 * Double(rows * outputs * inputs)
        }
        return flops / seconds / 1e9
    }

    /// One thread's (sequence, head) pairs per second through causal attention forward + backward, read
    /// in place from a (T, 3C) projection with C = 4D (the fused trunk's layout).
    public static func attentionSequenceHeadsPerSecond(time: Int, headSize d: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 6)
        let c = 4 * d, stride = 3 * c
        let qkv = (0..<(time * stride)).map { _ in generator.nextUniformFloat() - 0.5 }
        let outGradient = (0..<(time * c)).map { _ in generator.nextUniformFloat() - 0.5 }
        var out = [Float](repeating: 0, count: time * c), weights = [Float](repeating: 0, count: CPUKernels.attentionWeightsCount(time: time))
        var gradient = [Float](repeating: 0, count: time * stride)
        var scratch = [Float](repeating: 0, count: CPUKernels.attentionScratchCount(time: time, headSize: d))
        let scale = 1 / Float(d).squareRoot()
        let seconds = qkv.withUnsafeBufferPointer { qkv in outGradient.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { out in weights.withUnsafeMutableBufferPointer { a in
                gradient.withUnsafeMutableBufferPointer { dq in scratch.withUnsafeMutableBufferPointer { scratch in
                    let (q, g, o, a, dq, s) = (qkv.baseAddress!, g.baseAddress!, out.baseAddress!, a.baseAddress!, dq.baseAddress!, scratch.baseAddress!)
                    return bestSeconds(minimumSeconds: minimumSeconds) {
                        CPUKernels.attentionForward(q: q, k: q + c, v: q + 2 * c, stride: stride, time: time, headSize: d, scale: scale,
                                                    out: o, outStride: c, weights: a, scratch: s)
                        CPUKernels.attentionBackward(q: q, k: q + c, v: q + 2 * c, stride: stride, time: time, headSize: d, scale: scale,
                                                     weights: a, outGradient: g, outStride: c, dq: dq, dk: dq + c, dv: dq + 2 * c, scratch: s)
                    }
                } }
            } }
        } }
        return 1 / seconds
    }

    /// Millions of elements per second of an elementwise op on the tape's forward path (2²⁰ floats).
    public static func elementwiseMegaelementsPerSecond(_ op: (Tensor) -> Tensor, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 3)
        let n = 1 << 20
        let x = Tensor(shape: [n], data: (0..<n).map { _ in 6 * generator.nextUniformFloat() - 3 })
        let seconds = medianSeconds(minimumSeconds: minimumSeconds) { _ = Tensor.withoutGradients { op(x) } }
        return Double(n) / seconds / 1e6
    }

    /// Training tokens/s of the GPT trunk (forward + cross-entropy + backward + AdamW), as the PyTorch
    /// anchor measures it: random tokens, next-token targets, lr 3e-4.
    public static func transformerTrainingTokensPerSecond(config: TransformerConfig, batch: Int, minimumSeconds: Double = 2) -> Double {
        var generator = SeededGenerator(seed: 2)
        let model = CausalTransformer(config: config, generator: &generator)
        let optimizer = AdamW(parameters: model.parameters, config: .init(learningRate: 3e-4, weightDecay: 0.01))
        let time = config.contextLength
        let tokens = (0..<(batch * time)).map { _ in generator.nextInt(below: config.vocabularySize) }
        let targets = (0..<(batch * time)).map { _ in generator.nextInt(below: config.vocabularySize) }
        let seconds = medianSeconds(rounds: 3, minimumSeconds: minimumSeconds) {
            model.zeroGradients()
            let loss = model.forward(tokens: tokens, batch: batch, time: time).logits.crossEntropy(targets: targets)
            loss.backward()
            optimizer.step()
        }
        return Double(batch * time) / seconds
    }
}

/// Twelve independent chains of `steps` SIMD16 fused multiply-adds; the result is kept opaque so the
/// loop is not folded away.
@inline(never)
private func fmaChains(steps: Int) {
    let one = SIMD16<Float>(repeating: 1)
    var a0 = one, a1 = one + 1, a2 = one + 2, a3 = one + 3, a4 = one + 4, a5 = one + 5
    var a6 = one + 6, a7 = one + 7, a8 = one + 8, a9 = one + 9, a10 = one + 10, a11 = one + 11
    let m = SIMD16<Float>(repeating: 0.999), c = SIMD16<Float>(repeating: 0.001)
    for _ in 0..<steps {
        a0 = a0.addingProduct(m, c); a1 = a1.addingProduct(m, c); a2 = a2.addingProduct(m, c); a3 = a3.addingProduct(m, c)
        a4 = a4.addingProduct(m, c); a5 = a5.addingProduct(m, c); a6 = a6.addingProduct(m, c); a7 = a7.addingProduct(m, c)
        a8 = a8.addingProduct(m, c); a9 = a9.addingProduct(m, c); a10 = a10.addingProduct(m, c); a11 = a11.addingProduct(m, c)
    }
    let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
    fmaSink = total.sum()
}

nonisolated(unsafe) private var fmaSink: Float = 0
