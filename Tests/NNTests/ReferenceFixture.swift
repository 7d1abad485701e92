import Foundation
@testable import NN

/// The PyTorch oracle of `Fixtures/` (see its README): weights, cases and gradients.
struct ReferenceFixture {
    let cases: [String: Any]
    let weights: [String: SafeTensors.Entry]
    let gradients32: [String: SafeTensors.Entry]
    let gradients64: [String: SafeTensors.Entry]
    let config: TransformerConfig

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    init() throws {
        func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name))) }
        let json = try JSONSerialization.jsonObject(with: Data(bytes("cases.json"))) as! [String: Any]
        cases = json["cases"] as! [String: Any]
        weights = try SafeTensors.read(try bytes("weights.safetensors")).tensors
        gradients32 = try SafeTensors.read(try bytes("grads_f32.safetensors")).tensors
        gradients64 = try SafeTensors.read(try bytes("grads_f64.safetensors")).tensors
        let c = json["config"] as! [String: Any]
        config = TransformerConfig(
            vocabularySize: c["vocab_size"] as! Int, contextLength: c["n_ctx"] as! Int, modelWidth: c["d_model"] as! Int,
            layers: c["n_layer"] as! Int, heads: c["n_head"] as! Int, mlpWidth: (c["d_ff"] as! Int))
    }

    func caseNamed(_ name: String) -> [String: Any] { cases[name] as! [String: Any] }

    /// Weights as a state dictionary, optionally without the names a module does not have.
    func state(excluding prefix: String? = nil) -> [String: (shape: [Int], values: [Float])] {
        var state: [String: (shape: [Int], values: [Float])] = [:]
        for (name, entry) in weights where prefix.map({ !name.hasPrefix($0) }) ?? true {
            state[name] = (entry.shape, entry.float32)
        }
        return state
    }
}

/// Flattens nested JSON arrays of numbers into [Double].
func flatDoubles(_ value: Any) -> [Double] {
    if let array = value as? [Any] { return array.flatMap(flatDoubles) }
    if let number = value as? NSNumber { return [number.doubleValue] }
    return []
}

func flatInts(_ value: Any) -> [Int] { flatDoubles(value).map { Int($0) } }

/// max |a − b| / scale.
func relativeError(_ a: [Float], _ b: [Double], scale: Double) -> Double {
    precondition(a.count == b.count, "\(a.count) values vs \(b.count) reference values")
    return zip(a, b).map { abs(Double($0) - $1) }.max()! / scale
}
