import Autograd
import Randomness

/// y = x·Wᵀ + b with W stored [out, in] (PyTorch's `nn.Linear` layout).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// Weights N(0, std²), zero bias (GPT-2).
    public convenience init(
        _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, standardDeviation: Float,
        generator: inout SeededGenerator
    ) {
        self.init(
            weight: Tensor(
                shape: [outFeatures, inFeatures],
                data: Initialization.normal(
                    [outFeatures, inFeatures], standardDeviation: standardDeviation, generator: &generator),
                requiresGrad: true),
            bias: bias ? Tensor(zeros: [outFeatures], requiresGrad: true) : nil)
    }

    /// Orthogonal weights with `gain`, zero bias (CleanRL's `layer_init`).
    public convenience init(
        _ inFeatures: Int, _ outFeatures: Int, orthogonalGain gain: Float, generator: inout SeededGenerator
    ) {
        self.init(
            weight: Tensor(
                shape: [outFeatures, inFeatures],
                data: Initialization.orthogonal(
                    rows: outFeatures, columns: inFeatures, gain: gain, generator: &generator), requiresGrad: true),
            bias: Tensor(zeros: [outFeatures], requiresGrad: true))
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// A lookup table of `count` vectors of size `dimension`.
public final class Embedding: Module {
    public let weight: Tensor

    public init(count: Int, dimension: Int, standardDeviation: Float, generator: inout SeededGenerator) {
        weight = Tensor(
            shape: [count, dimension],
            data: Initialization.normal(
                [count, dimension], standardDeviation: standardDeviation, generator: &generator), requiresGrad: true)
    }

    /// Rows for `indices`: shape [indices.count, dimension].
    public func callAsFunction(_ indices: [Int]) -> Tensor { weight.gatherRows(indices) }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
}

/// Layer normalisation over the last axis with learned scale and shift (ε = 1e-5, biased variance).
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let epsilon: Float

    public init(_ dimension: Int, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [dimension], requiresGrad: true)
        bias = Tensor(zeros: [dimension], requiresGrad: true)
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, epsilon: epsilon) }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// The hidden-layer nonlinearity of an MLP.
public enum Activation: String, Codable, Sendable {
    case tanh, relu

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .tanh: x.tanh()
        case .relu: x.relu()
        }
    }
}

/// A multilayer perceptron: Linear → activation → … → Linear (no activation after the last layer).
/// Initialised as CleanRL's agents: orthogonal hidden layers with gain √2, the output layer with
/// `outputGain`, zero biases. Parameters are named `0.weight`, `1.weight`, … by layer.
public final class MLP: Module {
    public let layers: [Linear]
    public let activation: Activation

    public init(sizes: [Int], activation: Activation = .tanh, outputGain: Float, generator: inout SeededGenerator) {
        precondition(sizes.count >= 2, "an MLP needs at least input and output sizes, got \(sizes)")
        var layers: [Linear] = []
        for i in 0..<(sizes.count - 1) {
            let isLast = i == sizes.count - 2
            layers.append(
                Linear(
                    sizes[i], sizes[i + 1], orthogonalGain: isLast ? outputGain : Float(2).squareRoot(),
                    generator: &generator))
        }
        self.layers = layers
        self.activation = activation
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return h
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { prefixed("\($0.offset)", $0.element.namedParameters) }
    }
}
