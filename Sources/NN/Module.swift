import Autograd

/// A container of trainable parameters with PyTorch-style dotted names (`blocks.0.attn.qkv.weight`),
/// so checkpoints and safetensors files line up with PyTorch's `state_dict`.
public protocol Module: AnyObject {
    /// Every parameter, in a fixed order, with its name.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension Module {
    /// The parameters alone, in `namedParameters` order.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// Total number of scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Clears every parameter's gradient.
    public func zeroGradients() { for p in parameters { p.zeroGrad() } }

    /// Copies values from `source` by name; the names and shapes must match exactly.
    public func load(_ source: [String: (shape: [Int], values: [Float])]) throws {
        for (name, tensor) in namedParameters {
            guard let entry = source[name] else { throw ParameterLoadingError.missing(name: name) }
            guard entry.shape == tensor.shape else {
                throw ParameterLoadingError.shapeMismatch(name: name, expected: tensor.shape, found: entry.shape)
            }
            tensor.data = entry.values
        }
        let known = Set(namedParameters.map(\.name))
        if let extra = source.keys.sorted().first(where: { !known.contains($0) }) {
            throw ParameterLoadingError.unexpected(name: extra)
        }
    }

    /// The current values by name.
    public func stateDictionary() -> [String: (shape: [Int], values: [Float])] {
        var result: [String: (shape: [Int], values: [Float])] = [:]
        for (name, tensor) in namedParameters { result[name] = (tensor.shape, tensor.data) }
        return result
    }
}

/// Prefixes the names of a child module's parameters (`prefix.name`).
public func prefixed(
    _ prefix: String, _ parameters: [(name: String, tensor: Tensor)]
) -> [(name: String, tensor: Tensor)] {
    parameters.map { ("\(prefix).\($0.name)", $0.tensor) }
}

/// Loading weights that do not fit the model.
public enum ParameterLoadingError: Error, CustomStringConvertible, Equatable {
    case missing(name: String)
    case unexpected(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missing(let name):
            "the weights have no tensor '\(name)' — they were saved by a different model configuration"
        case .unexpected(let name):
            "the weights hold an unknown tensor '\(name)' — they were saved by a different model configuration"
        case .shapeMismatch(let name, let expected, let found):
            "tensor '\(name)' has shape \(found) but the model needs \(expected) — check the model configuration"
        }
    }
}
