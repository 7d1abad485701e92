import Testing
@testable import Autograd
@testable import NN
import Randomness
import TestSupport

/// The fused trunk op against the composite of the module ops (its specification): hidden states,
/// logits and every parameter's gradient, on shapes that exercise the edges (one sequence, an odd
/// batch split unevenly over the two threads, head sizes 8/16/32, T below, at and above 16, tied head).
@Suite struct FusedTrunkTests {
    struct Shape: CustomStringConvertible, Sendable {
        var config: TransformerConfig
        var batch: Int
        var time: Int
        var description: String {
            let tied = config.tiedEmbeddings ? " tied" : ""
            return "C\(config.modelWidth) H\(config.heads) L\(config.layers) B\(batch) T\(time)\(tied)"
        }
    }

    static let shapes: [Shape] = [
        Shape(config: TransformerConfig(vocabularySize: 16, contextLength: 8, modelWidth: 16, layers: 2, heads: 2),
              batch: 1, time: 8),
        Shape(config: TransformerConfig(vocabularySize: 32, contextLength: 40, modelWidth: 64, layers: 2, heads: 4,
                                        tiedEmbeddings: true),
              batch: 5, time: 17),
        Shape(config: TransformerConfig(vocabularySize: 20, contextLength: 64, modelWidth: 64, layers: 1, heads: 2,
                                        mlpWidth: 48),
              batch: 4, time: 33),
        Shape(config: TransformerConfig(vocabularySize: 32, contextLength: 16, modelWidth: 48, layers: 3, heads: 3),
              batch: 2, time: 16),
    ]

    @Test(arguments: shapes)
    func fusedTrunkMatchesTheComposite(shape: Shape) {
        var generator = SeededGenerator(seed: 11)
        let model = CausalTransformer(config: shape.config, generator: &generator)
        // Non-trivial LayerNorm parameters and biases, so their gradients are tested too.
        for (name, tensor) in model.namedParameters where name.hasSuffix("bias") || name.contains("ln") {
            tensor.data = tensor.data.map { $0 + 0.1 * (generator.nextUniformFloat() - 0.5) }
        }
        let n = shape.batch * shape.time
        let tokens = (0..<n).map { _ in generator.nextInt(below: shape.config.vocabularySize) }
        let targets = (0..<n).map { _ in generator.nextInt(below: shape.config.vocabularySize) }

        func run(fused: Bool) -> (hidden: [Float], logits: [Float], gradients: [[Float]]) {
            model.zeroGradients()
            let (logits, hidden) = fused ? model.forward(tokens: tokens, batch: shape.batch, time: shape.time)
                                         : model.forwardComposite(tokens: tokens, batch: shape.batch, time: shape.time)
            // A loss that reaches the hidden state twice (through the head and directly), as a value head does.
            let loss = logits.crossEntropy(targets: targets) + (hidden * hidden).mean() * 0.5
            loss.backward()
            let gradients = model.parameters.map { $0.grad ?? [Float](repeating: 0, count: $0.count) }
            return (hidden.data, logits.data, gradients)
        }
        let composite = run(fused: false)
        let fused = run(fused: true)
        #expect(maxRelativeDifference(fused.hidden, composite.hidden) <= 1e-5, "hidden \(shape)")
        #expect(maxRelativeDifference(fused.logits, composite.logits) <= 1e-5, "logits \(shape)")
        for ((name, _), (a, b)) in zip(model.namedParameters, zip(fused.gradients, composite.gradients)) {
            #expect(maxRelativeDifference(a, b) <= 1e-4, "gradient of \(name), \(shape)")
        }
        // The arena is reused: a second call gives the same result.
        let again = run(fused: true)
        #expect(again.logits == fused.logits && again.gradients == fused.gradients,
                "reused workspace changed the result, \(shape)")
    }

    @Test func noGradientForwardMatchesAndLeavesNoGradients() {
        var generator = SeededGenerator(seed: 12)
        let config = TransformerConfig(vocabularySize: 32, contextLength: 32, modelWidth: 64, layers: 2, heads: 4)
        let model = CausalTransformer(config: config, generator: &generator)
        let tokens = (0..<(6 * 9)).map { _ in generator.nextInt(below: 32) }
        let withTape = model.forward(tokens: tokens, batch: 6, time: 9).logits
        let without = Tensor.withoutGradients { model.forward(tokens: tokens, batch: 6, time: 9).logits }
        #expect(withTape.data == without.data)
        #expect(!without.requiresGrad)
        #expect(model.parameters.allSatisfy { $0.grad == nil })
    }

}
