import Foundation
import NN

/// The PyTorch oracle of `Tests/NNTests/Fixtures` (see its README): weights, cases and gradients of a
/// tiny GPT with a value head, read by NNTests (the trunk) and PoliciesTests (trunk + value head).
public struct TransformerReferenceFixture {
    /// `cases.json` → `cases` (the original five cases) and `value_case.json` → `cases`
    /// (made by `generate_value_case.py`, whose value-head gradient is non-zero).
    public let cases: [String: JSON]
    public let weights: [String: SafeTensors.Entry]
    /// F32 gradients, keys `backward/<parameter>` and `value_loss/<parameter>`.
    public let gradients32: [String: SafeTensors.Entry]
    /// F64 gradients, keys `backward/…`, `seq_logprob/…` and `value_loss/…`.
    public let gradients64: [String: SafeTensors.Entry]
    public let config: TransformerConfig

    public static let testTarget = "NNTests"

    public init() throws {
        func tensors(_ name: String) throws -> [String: SafeTensors.Entry] {
            try SafeTensors.read(FixtureDirectory.bytes(of: Self.testTarget, file: name)).tensors
        }
        let json = try JSON.load("cases.json", testTarget: Self.testTarget)
        let valueCases = try JSON.load("value_case.json", testTarget: Self.testTarget)
        var cases: [String: JSON] = [:]
        for source in [json, valueCases] {
            for name in source["cases"]?.keys ?? [] { cases[name] = source["cases"]![name] }
        }
        self.cases = cases
        weights = try tensors("weights.safetensors")
        gradients32 = try tensors("grads_f32.safetensors")
            .merging(try tensors("value_grads_f32.safetensors")) { first, _ in first }
        gradients64 = try tensors("grads_f64.safetensors")
            .merging(try tensors("value_grads_f64.safetensors")) { first, _ in first }
        guard let c = json["config"], let vocabulary = c["vocab_size"]?.int, let context = c["n_ctx"]?.int,
              let width = c["d_model"]?.int, let layers = c["n_layer"]?.int, let heads = c["n_head"]?.int,
              let mlpWidth = c["d_ff"]?.int
        else { throw FixtureError("cases.json has no complete `config`") }
        config = TransformerConfig(
            vocabularySize: vocabulary, contextLength: context, modelWidth: width, layers: layers, heads: heads,
            mlpWidth: mlpWidth)
    }

    /// The case called `name` (its `inputs`, `outputs`, `outputs_f32` and `max_abs`).
    public func testCase(_ name: String) throws -> JSON {
        guard let found = cases[name] else { throw FixtureError("no case \(name) in the transformer fixture") }
        return found
    }

    /// Weights as a state dictionary, optionally without the names a module does not have.
    public func state(excluding prefix: String? = nil) -> [String: (shape: [Int], values: [Float])] {
        var state: [String: (shape: [Int], values: [Float])] = [:]
        for (name, entry) in weights where prefix.map({ !name.hasPrefix($0) }) ?? true {
            state[name] = (entry.shape, entry.float32)
        }
        return state
    }
}

/// A fixture file that lacks what a test needs.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
