import Autograd
import NN
import Randomness

/// The numeric core's figures: gemm, the FMA ceiling, the trunk's products, attention, elementwise ops.
public enum KernelBenchmarks {
    /// GFLOP/s of C = A·B for n×n×n (2n³ flops per product) through `MatrixKernels.multiply`.
    public static func matmulGigaflops(size n: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in generator.nextUniformFloat() - 0.5 }
        let b = (0..<(n * n)).map { _ in generator.nextUniformFloat() - 0.5 }
        var c = [Float](repeating: 0, count: n * n)
        let seconds = BenchmarkTiming.medianSeconds(minimumSeconds: minimumSeconds) {
            MatrixKernels.multiply(m: n, n: n, k: n, a: a, b: b, into: &c)
        }
        return 2 * Double(n * n * n) / seconds / 1e9
    }

    /// One thread's fused-multiply-add peak in GFLOP/s: twelve independent chains (enough to cover the FMA
    /// latency on two ports) of the path's vector (`KernelPath`: SIMD16 on AVX-512; SIMD8 on AVX2, where twelve
    /// SIMD16 chains are 24 ymm registers of 16 and spill, and on NEON), no memory traffic. The ceiling the gemm
    /// figures are read against: on a shared VM it moves with the host's load, so compare kernels with it in one
    /// sitting.
    public static func fusedMultiplyAddPeakGigaflops(minimumSeconds: Double = 1) -> Double {
        let steps = 1 << 20
        #if POLICYLAB_AVX512
        let seconds = BenchmarkTiming.bestSeconds(minimumSeconds: minimumSeconds) {
            fmaChains(steps: steps, of: SIMD16<Float>.self)
        }
        return Double(steps) * 12 * 32 / seconds / 1e9
        #else
        let seconds = BenchmarkTiming.bestSeconds(minimumSeconds: minimumSeconds) {
            fmaChains(steps: steps, of: SIMD8<Float>.self)
        }
        return Double(steps) * 12 * 16 / seconds / 1e9
        #endif
    }

    /// One thread's GFLOP/s over the twelve products of a fused trunk block's step, each through the
    /// kernel the trunk runs it with (`FusedTrunk+Passes.swift`), for `rows` rows (half a training
    /// batch: one thread's share) at width C and MLP width 4C. Per Linear layer W [out, in] as stored:
    /// forward y = x·Wᵀ + b (`matmulTransposedB`), weight gradient dW = dyᵀ·x (`matmulTransposedA`),
    /// input gradient dx = dy·W (`matmul`; for the MLP's output layer with the GELU′ epilogue).
    public static func trunkGemmGigaflops(rows: Int, width c: Int, minimumSeconds: Double = 1) -> Double {
        var generator = SeededGenerator(seed: 5)
        func random(_ count: Int) -> UnsafeMutablePointer<Float> {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            for i in 0..<count { buffer[i] = generator.nextUniformFloat() - 0.5 }
            return buffer
        }
        // (outputs, inputs) of the four Linear layers of a block: qkv, attention projection, MLP fc, MLP out.
        let layers = [(3 * c, c), (c, c), (4 * c, c), (c, 4 * c)]
        let share = minimumSeconds / Double(3 * layers.count)
        var seconds = 0.0, flops = 0.0
        for (index, (outputs, inputs)) in layers.enumerated() {
            let x = random(rows * inputs), weight = random(outputs * inputs), bias = random(outputs)
            let outputGradient = random(rows * outputs), geluDerivative = random(rows * inputs)
            let y = random(rows * outputs), weightGradient = random(outputs * inputs)
            let inputGradient = random(rows * inputs)
            defer {
                for buffer in [x, weight, bias, outputGradient, geluDerivative, y, weightGradient, inputGradient] {
                    buffer.deallocate()
                }
            }
            let epilogue: GemmEpilogue? = index == 3 ? .multiply(factor: geluDerivative) : nil
            seconds += BenchmarkTiming.bestSeconds(minimumSeconds: share) {
                CPUKernels.matmulTransposedB(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: inputs,
                                             c: y, ldc: outputs, accumulate: false, bias: bias)
            }
            seconds += BenchmarkTiming.bestSeconds(minimumSeconds: share) {
                CPUKernels.matmulTransposedA(m: outputs, n: inputs, k: rows, a: outputGradient, lda: outputs,
                                             b: x, ldb: inputs, c: weightGradient, ldc: inputs, accumulate: false)
            }
            seconds += BenchmarkTiming.bestSeconds(minimumSeconds: share) {
                CPUKernels.matmul(m: rows, n: inputs, k: outputs, a: outputGradient, lda: outputs,
                                  b: weight, ldb: inputs, c: inputGradient, ldc: inputs, accumulate: false,
                                  epilogue: epilogue)
            }
            flops += 3 * 2 * Double(rows * outputs * inputs)
        }
        return flops / seconds / 1e9
    }

    /// One thread's (sequence, head) pairs per second through causal attention forward + backward, read
    /// in place from a (T, 3C) projection with C = 4D (the fused trunk's layout), the gradients written
    /// rather than added as the trunk's plain (unshared) sequences do.
    public static func attentionSequenceHeadsPerSecond(
        time: Int, headSize d: Int, minimumSeconds: Double = 1
    ) -> Double {
        var generator = SeededGenerator(seed: 6)
        let c = 4 * d, stride = 3 * c
        func buffer(_ count: Int, random: Bool) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            for i in 0..<count { pointer[i] = random ? generator.nextUniformFloat() - 0.5 : 0 }
            return pointer
        }
        let qkv = buffer(time * stride, random: true), outGradient = buffer(time * c, random: true)
        let out = buffer(time * c, random: false), gradient = buffer(time * stride, random: false)
        let weights = buffer(CPUKernels.attentionWeightsCount(time: time), random: false)
        let scratch = buffer(CPUKernels.attentionScratchCount(time: time, headSize: d), random: false)
        defer { for pointer in [qkv, outGradient, out, gradient, weights, scratch] { pointer.deallocate() } }
        let scale = 1 / Float(d).squareRoot()
        let seconds = BenchmarkTiming.bestSeconds(minimumSeconds: minimumSeconds) {
            CPUKernels.attentionForward(q: qkv, k: qkv + c, v: qkv + 2 * c, stride: stride, time: time, headSize: d,
                                        scale: scale, out: out, outStride: c, weights: weights, scratch: scratch)
            CPUKernels.attentionBackward(q: qkv, k: qkv + c, v: qkv + 2 * c, stride: stride, time: time, headSize: d,
                                         scale: scale, weights: weights, outGradient: outGradient, outStride: c,
                                         dq: gradient, dk: gradient + c, dv: gradient + 2 * c, scratch: scratch,
                                         accumulate: false)
        }
        return 1 / seconds
    }

    /// Millions of elements per second of an elementwise op on the tape's forward path (2²⁰ floats).
    public static func elementwiseMegaelementsPerSecond(
        _ op: (Tensor) -> Tensor, minimumSeconds: Double = 1
    ) -> Double {
        var generator = SeededGenerator(seed: 3)
        let n = 1 << 20
        let x = Tensor(shape: [n], data: (0..<n).map { _ in 6 * generator.nextUniformFloat() - 3 })
        let seconds = BenchmarkTiming.medianSeconds(minimumSeconds: minimumSeconds) {
            _ = Tensor.withoutGradients { op(x) }
        }
        return Double(n) / seconds / 1e6
    }
}

/// Twelve independent chains of `steps` fused multiply-adds on vectors of type V; the result is kept opaque so
/// the loop is not folded away (the optimiser specialises it for each caller's vector type).
@inline(never)
private func fmaChains<V: SIMD>(steps: Int, of _: V.Type) where V.Scalar == Float {
    let one = V(repeating: 1)
    var a0 = one, a1 = one + 1, a2 = one + 2, a3 = one + 3, a4 = one + 4, a5 = one + 5
    var a6 = one + 6, a7 = one + 7, a8 = one + 8, a9 = one + 9, a10 = one + 10, a11 = one + 11
    let m = V(repeating: 0.999), c = V(repeating: 0.001)
    for _ in 0..<steps {
        a0 = a0.addingProduct(m, c); a1 = a1.addingProduct(m, c); a2 = a2.addingProduct(m, c)
        a3 = a3.addingProduct(m, c); a4 = a4.addingProduct(m, c); a5 = a5.addingProduct(m, c)
        a6 = a6.addingProduct(m, c); a7 = a7.addingProduct(m, c); a8 = a8.addingProduct(m, c)
        a9 = a9.addingProduct(m, c); a10 = a10.addingProduct(m, c); a11 = a11.addingProduct(m, c)
    }
    let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
    fmaSink = total.sum()
}

nonisolated(unsafe) private var fmaSink: Float = 0
