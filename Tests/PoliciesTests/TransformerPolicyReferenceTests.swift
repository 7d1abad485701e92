import Foundation
import Testing
@testable import Autograd
@testable import NN
@testable import Policies
import Randomness
import TestSupport

/// The full policy (trunk + value head) against PyTorch (fixtures shared with NNTests, see
/// `Tests/NNTests/Fixtures/README.md`): values, masked sequence log-probs and their gradients for every
/// parameter, a loss on both heads whose value-head gradient is non-zero (`value_loss`, made by
/// `generate_value_case.py`), and KV-cache decoding. Float32 within 1e-5 × each field's max |x|.
@Suite struct TransformerPolicyReferenceTests {
    let fixture: TransformerReferenceFixture
    let policy: TransformerPolicy

    init() throws {
        fixture = try TransformerReferenceFixture()
        var generator = SeededGenerator(seed: 0)
        policy = TransformerPolicy(config: fixture.config, generator: &generator)
        try policy.load(fixture.state())
    }

    func expectClose(
        _ got: [Float], _ want: [Double], scale: Double, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(got.count == want.count, "\(what): \(got.count) vs \(want.count)", sourceLocation: sourceLocation)
        let error = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(error <= 1e-5 * scale, "\(what): max error \(error) (scale \(scale))", sourceLocation: sourceLocation)
    }

    /// Compares `got` with the case's float64 `outputs` and PyTorch's float32 `outputs_f32`.
    func expectField(
        _ got: [Float], _ testCase: JSON, _ field: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let scale = testCase["max_abs"]?[field]?.double else {
            Issue.record("the fixture has no max_abs of \(field)", sourceLocation: sourceLocation)
            return
        }
        for outputs in ["outputs", "outputs_f32"] {
            guard let reference = testCase[outputs]?[field] else {
                Issue.record("the fixture has no \(outputs).\(field)", sourceLocation: sourceLocation)
                continue
            }
            expectClose(got, reference.doubles, scale: scale, "\(outputs).\(field)", sourceLocation: sourceLocation)
        }
    }

    /// Every parameter's gradient against `<prefix>/<name>` of the given reference files.
    func expectGradients(_ testCase: JSON, prefix: String, float32: Bool) throws {
        let perParameter = try #require(testCase["max_abs"]?["grads_per_parameter"])
        var checked = 0
        for (name, tensor) in policy.namedParameters {
            let gradient = tensor.grad ?? [Float](repeating: 0, count: tensor.count)
            let scale = max(try #require(perParameter[name]?.double), 1e-30)
            let reference64 = try #require(fixture.gradients64["\(prefix)/\(name)"])
            expectClose(gradient, reference64.float64, scale: scale, "f64 gradient of \(name)")
            if float32 {
                let reference32 = try #require(fixture.gradients32["\(prefix)/\(name)"])
                expectClose(gradient, reference32.float32.map(Double.init), scale: scale, "f32 gradient of \(name)")
            }
            checked += 1
        }
        #expect(checked == 31)
    }

    func inputs(_ testCase: JSON) throws -> (tokens: [Int], batch: Int, time: Int, mask: [Double]) {
        let rows = try #require(testCase["inputs"]?["input_ids"]).array
        let mask = try #require(testCase["inputs"]?["completion_mask"]).doubles
        return (rows.flatMap(\.ints), rows.count, rows[0].array.count, mask)
    }

    @Test func valuesMatchPyTorch() throws {
        for name in ["forward", "short_context"] {
            let testCase = try fixture.testCase(name)
            let rows = try #require(testCase["inputs"]?["input_ids"]).array
            let (_, values) = policy.forward(tokens: rows.flatMap(\.ints), batch: rows.count, time: rows[0].array.count)
            expectField(values.data, testCase, "values")
        }
    }

    @Test func maskedSequenceLogProbabilitiesAndTheirGradients() throws {
        let testCase = try fixture.testCase("seq_logprob")
        let (tokens, batch, time, mask) = try inputs(testCase)
        // (B, T−1)
        let tokenLogProbabilities = policy.nextTokenLogProbabilities(tokens: tokens, batch: batch, time: time)
        expectField(tokenLogProbabilities.data, testCase, "token_logprobs")
        // seq[b] = Σ_j mask[b, j+1] · token_logprobs[b, j]
        var weights = [Float](repeating: 0, count: batch * (time - 1))
        for b in 0..<batch { for j in 0..<(time - 1) { weights[b * (time - 1) + j] = Float(mask[b * time + j + 1]) } }
        let sequence = (tokenLogProbabilities * Tensor(shape: [batch, time - 1], data: weights)).sum(axis: 1)
        expectField(sequence.data, testCase, "seq_logprobs")
        let total = sequence.sum()
        expectField(total.data, testCase, "total")
        policy.zeroGradients()
        total.backward()
        // Only float64 gradients are stored for this case (README).
        try expectGradients(testCase, prefix: "seq_logprob", float32: false)
    }

    /// Both heads at once, as PPO trains a shared trunk: −mean completion log-prob plus half the masked
    /// squared error of the values against fixed returns. The value head's gradient is non-zero here.
    @Test func policyAndValueLossGradientsReachTheValueHead() throws {
        let testCase = try fixture.testCase("value_loss")
        let (tokens, batch, time, mask) = try inputs(testCase)
        let returns = try #require(testCase["inputs"]?["returns"]).doubles.map(Float.init)
        let count = Float(mask.reduce(0, +))
        let (logits, values) = policy.forward(tokens: tokens, batch: batch, time: time)
        let logProbabilities = TransformerPolicy.nextTokenLogProbabilities(
            logits: logits, tokens: tokens, batch: batch, time: time, temperature: 1)  // (B, T−1)
        var nextMask = [Float](repeating: 0, count: batch * (time - 1))
        for b in 0..<batch { for j in 0..<(time - 1) { nextMask[b * (time - 1) + j] = Float(mask[b * time + j + 1]) } }
        let policyLoss = -(logProbabilities * Tensor(shape: [batch, time - 1], data: nextMask)).sum() / count
        let error = values - Tensor(shape: [batch, time], data: returns)
        let positionMask = Tensor(shape: [batch, time], data: mask.map(Float.init))
        let valueLoss = (error.square() * positionMask).sum() * (0.5 / count)
        let loss = policyLoss + valueLoss
        expectField(values.data, testCase, "values")
        expectField(logProbabilities.data, testCase, "token_logprobs")
        expectField(policyLoss.data, testCase, "policy_loss")
        expectField(valueLoss.data, testCase, "value_loss")
        expectField(loss.data, testCase, "loss")
        policy.zeroGradients()
        loss.backward()
        #expect(policy.valueHead.weight.grad?.contains { $0 != 0 } == true, "the value head got no gradient")
        try expectGradients(testCase, prefix: "value_loss", float32: true)
    }

    @Test func kvCacheStepsMatchPyTorchAndTheFullForward() throws {
        let testCase = try fixture.testCase("kv_cache")
        let row = try #require(testCase["inputs"]?["input_ids"]).ints
        let cache = policy.emptyCache(batch: 1)
        var stepLogits: [Float] = [], stepValues: [Float] = []
        for (position, token) in row.enumerated() {
            let (logits, values) = policy.decodeStep(tokens: [token], position: position, cache: cache)
            stepLogits += logits
            stepValues += values
        }
        expectField(stepLogits, testCase, "step_logits")
        expectField(stepValues, testCase, "step_values")
    }

    @Test func samplingWithTheCacheGivesTheSameTokensAsFullRecomputation() {
        var generator = SeededGenerator(seed: 4)
        let prompts = [[1, 5, 9], [2, 3], [7, 7, 7, 7]]
        let options = SamplingOptions(greedy: true, maxNewTokens: 4)
        let cached = policy.sample(prompts: prompts, options: options, generator: &generator)
        // Recompute greedily without a cache: the whole prefix through the full forward at each step.
        for (p, prompt) in prompts.enumerated() {
            var sequence = prompt
            for _ in 0..<cached[p].tokens.count {
                let logits = Tensor.withoutGradients {
                    policy.forward(tokens: sequence, batch: 1, time: sequence.count).logits
                }
                let last = Array(logits.data.suffix(policy.config.vocabularySize))
                sequence.append(last.indices.max { last[$0] < last[$1] }!)
            }
            #expect(Array(sequence.dropFirst(prompt.count)) == cached[p].tokens)
            #expect(cached[p].tokens.count == min(4, policy.config.contextLength - prompt.count))
        }
    }
}
