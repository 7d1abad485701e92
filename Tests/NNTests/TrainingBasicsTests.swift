import Foundation
import Testing
@testable import Autograd
@testable import NN
import Randomness

@Suite struct TrainingBasicsTests {
    @Test func twoLayerMLPLearnsXOR() {
        var generator = SeededGenerator(seed: 1)
        let mlp = MLP(sizes: [2, 8, 1], activation: .tanh, outputGain: 1, generator: &generator)
        let optimizer = AdamW(parameters: mlp.parameters, config: .init(learningRate: 0.05))
        let inputs = Tensor(shape: [4, 2], data: [0, 0, 0, 1, 1, 0, 1, 1])
        let targets = Tensor(shape: [4, 1], data: [0, 1, 1, 0])
        var loss: Float = 1
        for _ in 0..<300 {
            mlp.zeroGradients()
            let l = (mlp(inputs) - targets).square().mean()
            l.backward()
            optimizer.step()
            loss = l.scalar
        }
        #expect(loss < 0.01, "final MSE \(loss)")
        let predictions = Tensor.withoutGradients { mlp(inputs) }.data
        #expect(predictions.map { $0 > 0.5 } == [false, true, true, false])
    }

    @Test func sameSeedGivesBitIdenticalParameters() {
        func train(seed: UInt64) -> [Float] {
            var generator = SeededGenerator(seed: seed)
            let model = CausalTransformer(
                config: TransformerConfig(vocabularySize: 8, contextLength: 6, modelWidth: 16, layers: 1, heads: 2),
                generator: &generator)
            let optimizer = AdamW(parameters: model.parameters, config: .init(learningRate: 3e-3, weightDecay: 0.1))
            for _ in 0..<5 {
                let tokens = (0..<12).map { _ in generator.nextInt(below: 8) }
                model.zeroGradients()
                model.forward(tokens: tokens, batch: 2, time: 6).logits.crossEntropy(
                    targets: tokens.map { ($0 + 1) % 8 }
                ).backward()
                optimizer.step()
            }
            return model.parameters.flatMap(\.data)
        }
        let a = train(seed: 5), b = train(seed: 5), c = train(seed: 6)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func tinyTransformerMemorisesSequences() {
        var generator = SeededGenerator(seed: 3)
        let config = TransformerConfig(vocabularySize: 10, contextLength: 8, modelWidth: 32, layers: 2, heads: 4)
        let model = CausalTransformer(config: config, generator: &generator)
        let optimizer = AdamW(parameters: model.parameters, config: .init(learningRate: 3e-3))
        let sequences: [[Int]] = [
            [1, 5, 2, 7, 3, 9, 4, 0], [2, 2, 8, 6, 1, 1, 3, 5], [9, 8, 7, 6, 5, 4, 3, 2], [0, 3, 0, 3, 6, 0, 6, 9],
        ]
        let inputs = sequences.flatMap { Array($0.dropLast()) }
        let targets = sequences.flatMap { Array($0.dropFirst()) }
        var loss: Float = 10
        for _ in 0..<200 {
            model.zeroGradients()
            let l = model.forward(tokens: inputs, batch: 4, time: 7).logits.crossEntropy(targets: targets)
            l.backward()
            optimizer.step()
            loss = l.scalar
        }
        #expect(loss < 0.05, "final loss \(loss)")
        let logits = Tensor.withoutGradients { model.forward(tokens: inputs, batch: 4, time: 7).logits }
        let predicted = (0..<targets.count).map { r in
            (0..<10).max { logits.data[r * 10 + $0] < logits.data[r * 10 + $1] }!
        }
        // The first token of each sequence is ambiguous only if prefixes collide; here all prefixes differ.
        #expect(predicted == targets)
    }

    @Test func orthogonalInitIsOrthogonalWithGain() {
        var generator = SeededGenerator(seed: 4)
        for (rows, columns) in [(6, 4), (4, 6), (5, 5)] {
            let w = Initialization.orthogonal(rows: rows, columns: columns, gain: 2, generator: &generator)
            // The smaller Gram matrix is gain²·I.
            let tall = rows >= columns
            let n = tall ? columns : rows
            for i in 0..<n {
                for j in 0..<n {
                    var s: Float = 0
                    if tall {
                        for r in 0..<rows { s += w[r * columns + i] * w[r * columns + j] }
                    } else {
                        for c in 0..<columns { s += w[i * columns + c] * w[j * columns + c] }
                    }
                    #expect(abs(s - (i == j ? 4 : 0)) < 1e-4)
                }
            }
        }
    }

    @Test func adamMatchesHandComputedFirstStep() {
        // One Adam step moves each coordinate by lr·sign(g) (m̂ = g, v̂ = g²), up to ε.
        let p = Tensor(shape: [2], data: [1, -1], requiresGrad: true)
        p.grad = [0.5, -2]
        let adam = AdamW(parameters: [p], config: .init(learningRate: 0.1, epsilon: 1e-8))
        adam.step()
        #expect(abs(p.data[0] - 0.9) < 1e-6 && abs(p.data[1] - -0.9) < 1e-6)
        // Decoupled weight decay shrinks θ by lr·λ before the Adam step.
        let q = Tensor(shape: [1, 1], data: [2], requiresGrad: true)
        q.grad = [0]
        let adamW = AdamW(parameters: [q], config: .init(learningRate: 0.1, weightDecay: 0.5))
        adamW.step()
        #expect(abs(q.data[0] - 1.9) < 1e-6)
    }

    @Test func gradientClippingAndSchedules() {
        let a = Tensor(shape: [2], data: [0, 0], requiresGrad: true),
            b = Tensor(shape: [1], data: [0], requiresGrad: true)
        a.grad = [3, 0]; b.grad = [4]
        let norm = clipGradientNorm([a, b], maximumNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.grad![0] - 0.6) < 1e-5 && abs(b.grad![0] - 0.8) < 1e-5)
        #expect(LearningRateSchedule.linear(totalSteps: 4).rate(base: 1, step: 1) == 0.75)
        let cosine = LearningRateSchedule.cosine(warmupSteps: 2, totalSteps: 12, minimumFraction: 0.1)
        #expect(cosine.rate(base: 1, step: 0) == 0.5)
        #expect(abs(cosine.rate(base: 1, step: 7) - 0.55) < 1e-6)
        #expect(abs(cosine.rate(base: 1, step: 12) - 0.1) < 1e-6)
    }

    @Test func stateDictionaryRoundTripsThroughSafeTensors() throws {
        var generator = SeededGenerator(seed: 8)
        let a = MLP(sizes: [3, 4, 2], outputGain: 0.01, generator: &generator)
        let b = MLP(sizes: [3, 4, 2], outputGain: 0.01, generator: &generator)
        #expect(a.parameters.flatMap(\.data) != b.parameters.flatMap(\.data))
        let bytes = SafeTensors.write(a.stateDictionary())
        try b.load(try SafeTensors.read(bytes).tensors.mapValues { ($0.shape, $0.float32) })
        #expect(a.parameters.flatMap(\.data) == b.parameters.flatMap(\.data))
        #expect(a.namedParameters.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias"])
        let wrong = MLP(sizes: [3, 5, 2], outputGain: 1, generator: &generator)
        #expect(throws: ParameterLoadingError.self) { try wrong.load(a.stateDictionary()) }
    }

    /// One AdamW over parameters of mixed sizes, whose elements it cuts in two halves for the two kernel
    /// threads wherever the cut falls, gives each parameter the bits its own AdamW gives it, over three steps.
    @Test func adamWOverAllParametersMatchesOneOptimizerPerParameter() {
        var generator = SeededGenerator(seed: 21)
        let shapes = [[5], [100, 200], [17], [3_000], [200, 200], [1], [33, 3]]
        func parameters() -> [Tensor] {
            var g = SeededGenerator(seed: 22)
            return shapes.map { shape in
                let count = shape.reduce(1, *)
                let values = (0..<count).map { _ in g.nextUniformFloat() - 0.5 }
                return Tensor(shape: shape, data: values, requiresGrad: true)
            }
        }
        let joint = parameters(), separate = parameters()
        let config = AdamW.Config(learningRate: 1e-2, weightDecay: 0.1)
        let jointOptimizer = AdamW(parameters: joint, config: config)
        let separateOptimizers = separate.map { AdamW(parameters: [$0], config: config) }
        for _ in 0..<3 {
            for (a, b) in zip(joint, separate) {
                let gradient = (0..<a.count).map { _ in generator.nextUniformFloat() * 2 - 1 }
                a.grad = gradient
                b.grad = gradient
            }
            jointOptimizer.step()
            for optimizer in separateOptimizers { optimizer.step() }
        }
        for (a, b) in zip(joint, separate) { #expect(a.data == b.data, "\(a.shape)") }
    }
}
