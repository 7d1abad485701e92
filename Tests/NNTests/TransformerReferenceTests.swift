import Foundation
import Testing
@testable import Autograd
@testable import NN
import Randomness

/// The GPT trunk against PyTorch's outputs and gradients for fixed weights (Fixtures/README.md):
/// Float32 within 1e-5 × each field's max |x| (per parameter for gradients).
@Suite struct TransformerReferenceTests {
    let fixture: ReferenceFixture
    let model: CausalTransformer

    init() throws {
        fixture = try ReferenceFixture()
        var generator = SeededGenerator(seed: 0)
        model = CausalTransformer(config: fixture.config, generator: &generator)
        try model.load(fixture.state(excluding: "value_head"))
    }

    func run(_ caseName: String) -> (logits: Tensor, logprobs: Tensor, loss: Tensor, reference: [String: Any]) {
        let testCase = fixture.caseNamed(caseName)
        let inputs = testCase["inputs"] as! [String: Any]
        let ids = inputs["input_ids"] as! [[Int]]
        let targets = flatInts(inputs["targets"]!)
        let (logits, _) = model.forward(tokens: ids.flatMap { $0 }, batch: ids.count, time: ids[0].count)
        let logprobs = logits.logSoftmax().pick(targets)
        let loss = logits.crossEntropy(targets: targets)
        return (logits, logprobs, loss, testCase)
    }

    @Test(arguments: ["forward", "short_context"])
    func logitsLogprobsAndLossMatchPyTorch(caseName: String) {
        let (logits, logprobs, loss, testCase) = run(caseName)
        let outputs = testCase["outputs"] as! [String: Any]
        let maxAbs = testCase["max_abs"] as! [String: Any]
        for (field, value) in [("logits", logits), ("target_logprobs", logprobs), ("loss", loss)] {
            let scale = (maxAbs[field] as! NSNumber).doubleValue
            let error = relativeError(value.data, flatDoubles(outputs[field]!), scale: scale)
            #expect(error <= 1e-5, "\(caseName).\(field): relative error \(error)")
        }
    }

    @Test func everyParameterGradientMatchesPyTorch() {
        let (_, _, loss, testCase) = run("backward")
        model.zeroGradients()
        loss.backward()
        let perParameter = (testCase["max_abs"] as! [String: Any])["grads_per_parameter"] as! [String: Any]
        var checked = 0
        for (name, tensor) in model.namedParameters {
            let reference = fixture.gradients64["backward/\(name)"]!
            let scale = (perParameter[name] as! NSNumber).doubleValue
            let error = relativeError(tensor.grad ?? [Float](repeating: 0, count: tensor.count), reference.float64, scale: scale)
            #expect(error <= 1e-5, "gradient of \(name): relative error \(error)")
            checked += 1
        }
        #expect(checked == 29)  // the 31 parameters less the value head (checked in PoliciesTests)
    }
}
