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

    /// Runs `body` repeatedly for at least `minimumSeconds` (after one warm-up call) and returns the
    /// median seconds per call over `rounds` rounds.
    public static func medianSeconds(rounds: Int = 5, minimumSeconds: Double, _ body: () -> Void) -> Double {
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
        return perCall.sorted()[perCall.count / 2]
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
