import Foundation
import Testing
@testable import Autograd
@testable import NN
@testable import Policies
import Randomness

/// The full policy (trunk + value head) against PyTorch (fixtures shared with NNTests, see
/// `Tests/NNTests/Fixtures/README.md`): values, masked sequence log-probs and their gradients for every
/// parameter, and KV-cache decoding. Float32 within 1e-5 × each field's max |x|.
@Suite struct TransformerPolicyReferenceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("NNTests/Fixtures")

    let cases: [String: Any]
    let policy: TransformerPolicy
    let gradients: [String: SafeTensors.Entry]

    init() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("cases.json"))) as! [String: Any]
        cases = json["cases"] as! [String: Any]
        let c = json["config"] as! [String: Any]
        let config = TransformerConfig(vocabularySize: c["vocab_size"] as! Int, contextLength: c["n_ctx"] as! Int, modelWidth: c["d_model"] as! Int,
                                       layers: c["n_layer"] as! Int, heads: c["n_head"] as! Int, mlpWidth: (c["d_ff"] as! Int))
        var generator = SeededGenerator(seed: 0)
        policy = TransformerPolicy(config: config, generator: &generator)
        let weights = try SafeTensors.read([UInt8](Data(contentsOf: Self.directory.appendingPathComponent("weights.safetensors")))).tensors
        try policy.load(weights.mapValues { ($0.shape, $0.float32) })
        gradients = try SafeTensors.read([UInt8](Data(contentsOf: Self.directory.appendingPathComponent("grads_f64.safetensors")))).tensors
    }

    func flat(_ value: Any) -> [Double] {
        if let a = value as? [Any] { return a.flatMap(flat) }
        return [(value as! NSNumber).doubleValue]
    }

    func expectClose(_ got: [Float], _ want: [Double], scale: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, "\(what): \(got.count) vs \(want.count)", sourceLocation: sourceLocation)
        let error = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(error <= 1e-5 * scale, "\(what): max error \(error) (scale \(scale))", sourceLocation: sourceLocation)
    }

    @Test func valuesMatchPyTorch() {
        for name in ["forward", "short_context"] {
            let testCase = cases[name] as! [String: Any]
            let ids = (testCase["inputs"] as! [String: Any])["input_ids"] as! [[Int]]
            let (_, values) = policy.forward(tokens: ids.flatMap { $0 }, batch: ids.count, time: ids[0].count)
            let scale = ((testCase["max_abs"] as! [String: Any])["values"] as! NSNumber).doubleValue
            expectClose(values.data, flat((testCase["outputs"] as! [String: Any])["values"]!), scale: scale, "\(name) values")
        }
    }

    @Test func maskedSequenceLogProbabilitiesAndTheirGradients() {
        let testCase = cases["seq_logprob"] as! [String: Any]
        let inputs = testCase["inputs"] as! [String: Any], outputs = testCase["outputs"] as! [String: Any]
        let maxAbs = testCase["max_abs"] as! [String: Any]
        let ids = inputs["input_ids"] as! [[Int]]
        let mask = flat(inputs["completion_mask"]!)
        let (batch, time) = (ids.count, ids[0].count)
        let tokenLogProbabilities = policy.nextTokenLogProbabilities(tokens: ids.flatMap { $0 }, batch: batch, time: time)  // (B, T−1)
        expectClose(tokenLogProbabilities.data, flat(outputs["token_logprobs"]!), scale: (maxAbs["token_logprobs"] as! NSNumber).doubleValue, "token_logprobs")
        // seq[b] = Σ_j mask[b, j+1] · token_logprobs[b, j]
        var weights = [Float](repeating: 0, count: batch * (time - 1))
        for b in 0..<batch { for j in 0..<(time - 1) { weights[b * (time - 1) + j] = Float(mask[b * time + j + 1]) } }
        let sequence = (tokenLogProbabilities * Tensor(shape: [batch, time - 1], data: weights)).sum(axis: 1)
        expectClose(sequence.data, flat(outputs["seq_logprobs"]!), scale: (maxAbs["seq_logprobs"] as! NSNumber).doubleValue, "seq_logprobs")
        let total = sequence.sum()
        expectClose(total.data, flat(outputs["total"]!), scale: (maxAbs["total"] as! NSNumber).doubleValue, "total")
        policy.zeroGradients()
        total.backward()
        let perParameter = maxAbs["grads_per_parameter"] as! [String: Any]
        for (name, tensor) in policy.namedParameters {
            let reference = gradients["seq_logprob/\(name)"]!.float64
            let scale = max((perParameter[name] as! NSNumber).doubleValue, 1e-30)
            expectClose(tensor.grad ?? [Float](repeating: 0, count: tensor.count), reference, scale: scale, "grad \(name)")
        }
    }

    @Test func kvCacheStepsMatchPyTorchAndTheFullForward() {
        let testCase = cases["kv_cache"] as! [String: Any]
        let ids = (testCase["inputs"] as! [String: Any])["input_ids"] as! [Any]
        let row = flat(ids).map { Int($0) }
        let outputs = testCase["outputs"] as! [String: Any], maxAbs = testCase["max_abs"] as! [String: Any]
        let cache = policy.emptyCache(batch: 1)
        var stepLogits: [Float] = [], stepValues: [Float] = []
        for (position, token) in row.enumerated() {
            let (logits, values) = policy.decodeStep(tokens: [token], position: position, cache: cache)
            stepLogits += logits
            stepValues += values
        }
        expectClose(stepLogits, flat(outputs["step_logits"]!), scale: (maxAbs["step_logits"] as! NSNumber).doubleValue, "step_logits")
        expectClose(stepValues, flat(outputs["step_values"]!), scale: (maxAbs["step_values"] as! NSNumber).doubleValue, "step_values")
    }

    @Test func samplingWithTheCacheGivesTheSameTokensAsFullRecomputation() {
        var generator = SeededGenerator(seed: 4)
        let prompts = [[1, 5, 9], [2, 3], [7, 7, 7, 7]]
        let cached = policy.sample(prompts: prompts, options: SamplingOptions(greedy: true, maxNewTokens: 4), generator: &generator)
        // Recompute greedily without a cache: the whole prefix through the full forward at each step.
        for (p, prompt) in prompts.enumerated() {
            var sequence = prompt
            for _ in 0..<cached[p].tokens.count {
                let logits = Tensor.withoutGradients { policy.forward(tokens: sequence, batch: 1, time: sequence.count).logits }
                let last = Array(logits.data.suffix(policy.config.vocabularySize))
                sequence.append(last.indices.max { last[$0] < last[$1] }!)
            }
            #expect(Array(sequence.dropFirst(prompt.count)) == cached[p].tokens)
            #expect(cached[p].tokens.count == min(4, policy.config.contextLength - prompt.count))
        }
    }
}
