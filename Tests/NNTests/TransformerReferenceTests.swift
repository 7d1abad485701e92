import Foundation
import Testing
@testable import Autograd
@testable import NN
import Randomness
import TestSupport

/// The GPT trunk against PyTorch's outputs and gradients for fixed weights (Fixtures/README.md):
/// Float32 within 1e-5 × each field's max |x| (per parameter for gradients), against both the float64
/// reference and PyTorch's own float32 run (`outputs_f32`, `grads_f32.safetensors`).
@Suite struct TransformerReferenceTests {
    let fixture: TransformerReferenceFixture
    let model: CausalTransformer

    init() throws {
        fixture = try TransformerReferenceFixture()
        var generator = SeededGenerator(seed: 0)
        model = CausalTransformer(config: fixture.config, generator: &generator)
        try model.load(fixture.state(excluding: "value_head"))
    }

    func run(_ caseName: String) throws -> (logits: Tensor, logprobs: Tensor, loss: Tensor, reference: JSON) {
        let testCase = try fixture.testCase(caseName)
        let inputs = try #require(testCase["inputs"])
        let rows = try #require(inputs["input_ids"]).array
        let targets = try #require(inputs["targets"]).ints
        let (logits, _) = model.forward(tokens: rows.flatMap(\.ints), batch: rows.count, time: rows[0].array.count)
        let logprobs = logits.logSoftmax().pick(targets)
        let loss = logits.crossEntropy(targets: targets)
        return (logits, logprobs, loss, testCase)
    }

    @Test(arguments: ["forward", "short_context"])
    func logitsLogprobsAndLossMatchPyTorch(caseName: String) throws {
        let (logits, logprobs, loss, testCase) = try run(caseName)
        for (field, value) in [("logits", logits), ("target_logprobs", logprobs), ("loss", loss)] {
            let scale = try #require(testCase["max_abs"]?[field]?.double)
            for outputs in ["outputs", "outputs_f32"] {
                let reference = try #require(testCase[outputs]?[field]).doubles
                let error = relativeError(value.data, reference, scale: scale)
                #expect(error <= 1e-5, "\(caseName).\(outputs).\(field): relative error \(error)")
            }
        }
    }

    @Test func everyParameterGradientMatchesPyTorchInBothPrecisions() throws {
        let (_, _, loss, testCase) = try run("backward")
        model.zeroGradients()
        loss.backward()
        let perParameter = try #require(testCase["max_abs"]?["grads_per_parameter"])
        var checked = 0
        for (name, tensor) in model.namedParameters {
            let gradient = tensor.grad ?? [Float](repeating: 0, count: tensor.count)
            let scale = try #require(perParameter[name]?.double)
            for (precision, references) in [("f64", fixture.gradients64), ("f32", fixture.gradients32)] {
                let reference = try #require(references["backward/\(name)"], "no \(precision) gradient of \(name)")
                let values = precision == "f64" ? reference.float64 : reference.float32.map(Double.init)
                let error = relativeError(gradient, values, scale: scale)
                #expect(error <= 1e-5, "\(precision) gradient of \(name): relative error \(error)")
            }
            checked += 1
        }
        // The 31 parameters less the value head, whose gradient PoliciesTests checks (`value_loss`).
        #expect(checked == 29)
    }
}
