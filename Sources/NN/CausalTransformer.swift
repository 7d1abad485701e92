import Autograd
import Randomness

/// The shape of a GPT-2-style decoder (Radford et al. 2019; nanoGPT's `GPTConfig`).
public struct TransformerConfig: Codable, Sendable, Equatable {
    /// V: vocabulary size.
    public var vocabularySize: Int
    /// T_max: context length (number of learned positions).
    public var contextLength: Int
    /// C (d_model): embedding width.
    public var modelWidth: Int
    /// L: number of blocks.
    public var layers: Int
    /// H: attention heads (C must be divisible by H).
    public var heads: Int
    /// Width of the MLP's hidden layer (4C in GPT-2).
    public var mlpWidth: Int
    /// Share the LM head with the token embedding (GPT-2 / `GPT2LMHeadModel`'s default). The parity
    /// fixture is untied.
    public var tiedEmbeddings: Bool = false

    public init(
        vocabularySize: Int, contextLength: Int, modelWidth: Int, layers: Int, heads: Int, mlpWidth: Int? = nil,
        tiedEmbeddings: Bool = false
    ) {
        self.tiedEmbeddings = tiedEmbeddings
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.modelWidth = modelWidth
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth ?? 4 * modelWidth
    }

    /// D: size of one head.
    public var headSize: Int { modelWidth / heads }

    /// Size s of the TRL anchors (ANCHORS.md): V 32, T 32, C 64, L 2, H 4.
    public static let small = TransformerConfig(
        vocabularySize: 32, contextLength: 32, modelWidth: 64, layers: 2, heads: 4)
    /// Size m: V 32, T 64, C 128, L 4, H 4.
    public static let medium = TransformerConfig(
        vocabularySize: 32, contextLength: 64, modelWidth: 128, layers: 4, heads: 4)
    /// TRL's anchor model of size s (`GPT2LMHeadModel`: 64 positions, tied embeddings, 106,240 parameters).
    public static let tokenPolicySmall = TransformerConfig(
        vocabularySize: 32, contextLength: 64, modelWidth: 64, layers: 2, heads: 4, tiedEmbeddings: true)
}

/// One pre-LayerNorm block: x + attn(LN₁(x)), then + MLP(LN₂(x)) with GELU (tanh form).
public final class TransformerBlock: Module {
    public let layerNorm1: LayerNorm
    public let attentionProjection: Linear  // qkv: C → 3C
    public let attentionOutput: Linear  // proj: C → C
    public let layerNorm2: LayerNorm
    public let mlpIn: Linear  // fc: C → 4C
    public let mlpOut: Linear  // proj: 4C → C
    public let heads: Int

    /// GPT-2 initialisation: N(0, 0.02), and N(0, 0.02/√(2L)) for the two projections that write into the
    /// residual stream (Radford et al. 2019 §2.3).
    public init(config: TransformerConfig, generator: inout SeededGenerator) {
        let c = config.modelWidth
        let residualStandardDeviation = Float(0.02 / (2 * Double(max(config.layers, 1))).squareRoot())
        layerNorm1 = LayerNorm(c)
        attentionProjection = Linear(c, 3 * c, standardDeviation: 0.02, generator: &generator)
        attentionOutput = Linear(c, c, standardDeviation: residualStandardDeviation, generator: &generator)
        layerNorm2 = LayerNorm(c)
        mlpIn = Linear(c, config.mlpWidth, standardDeviation: 0.02, generator: &generator)
        mlpOut = Linear(config.mlpWidth, c, standardDeviation: residualStandardDeviation, generator: &generator)
        heads = config.heads
    }

    /// x: (B, T, C) → (B, T, C). `inspectProjection`, when given, sees the (B, T, 3C) query/key/value
    /// projection (a sampler's prefill copies the keys and values into its cache).
    public func callAsFunction(_ x: Tensor, inspectProjection: ((Tensor) -> Void)? = nil) -> Tensor {
        let qkv = attentionProjection(layerNorm1(x))  // (B, T, 3C)
        inspectProjection?(qkv)
        let attended = qkv.causalSelfAttention(heads: heads)  // (B, T, C)
        let afterAttention = x + attentionOutput(attended)
        let hidden = mlpIn(layerNorm2(afterAttention)).gelu()  // (B, T, 4C)
        return afterAttention + mlpOut(hidden)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("ln1", layerNorm1.namedParameters) + prefixed("attn.qkv", attentionProjection.namedParameters)
            + prefixed("attn.proj", attentionOutput.namedParameters) + prefixed("ln2", layerNorm2.namedParameters)
            + prefixed("mlp.fc", mlpIn.namedParameters) + prefixed("mlp.proj", mlpOut.namedParameters)
    }
}

/// The GPT trunk: token + learned position embeddings, L pre-LN blocks, final LayerNorm and an untied
/// LM head without bias. Parameter names follow the reference fixture (`tok_emb.weight`,
/// `blocks.{i}.attn.qkv.weight`, `ln_f.weight`, `head.weight`, …). Init N(0, 0.02), LayerNorm (1, 0).
public final class CausalTransformer: Module {
    public let config: TransformerConfig
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let blocks: [TransformerBlock]
    public let finalLayerNorm: LayerNorm
    public let head: Linear
    /// Reusable activation arenas of the fused trunk op, by (B, T).
    let workspacePool = WorkspacePool()

    public init(config: TransformerConfig, generator: inout SeededGenerator) {
        precondition(
            config.modelWidth % config.heads == 0,
            "model width \(config.modelWidth) not divisible by \(config.heads) heads")
        self.config = config
        tokenEmbedding = Embedding(
            count: config.vocabularySize, dimension: config.modelWidth, standardDeviation: 0.02, generator: &generator)
        positionEmbedding = Embedding(
            count: config.contextLength, dimension: config.modelWidth, standardDeviation: 0.02, generator: &generator)
        var blocks: [TransformerBlock] = []
        for _ in 0..<config.layers { blocks.append(TransformerBlock(config: config, generator: &generator)) }
        self.blocks = blocks
        finalLayerNorm = LayerNorm(config.modelWidth)
        head = Linear(
            config.modelWidth, config.vocabularySize, bias: false, standardDeviation: 0.02, generator: &generator)
    }

    /// Token ids (B rows of T ≤ context length, flattened row-major) → logits (B, T, V) and the final
    /// normalised hidden state (B, T, C) (for a value head).
    public func forward(tokens: [Int], batch: Int, time: Int) -> (logits: Tensor, hidden: Tensor) {
        forward(tokens: tokens, batch: batch, time: time, inspectProjection: nil)
    }

    /// As `forward(tokens:batch:time:)`; `inspectProjection(layer, qkv)` sees each block's (B, T, 3C) projection.
    /// The trunk runs as one fused op (FusedTrunk.swift) when its blocks are GPT-2's; else as the
    /// composite of the module ops.
    public func forward(
        tokens: [Int], batch: Int, time: Int, inspectProjection: ((Int, Tensor) -> Void)?
    ) -> (logits: Tensor, hidden: Tensor) {
        precondition(tokens.count == batch * time, "\(tokens.count) tokens for batch \(batch) × time \(time)")
        precondition(
            time <= config.contextLength, "sequence length \(time) exceeds the context length \(config.contextLength)")
        if canFuseTrunk && batch > 0 && time > 0 {
            // (B, T, C)
            let hidden = fusedTrunk(tokens: tokens, batch: batch, time: time, inspectProjection: inspectProjection)
            return (logits(hidden), hidden)  // (B, T, V)
        }
        return forwardComposite(tokens: tokens, batch: batch, time: time, inspectProjection: inspectProjection)
    }

    /// Whether `hidden(tokens:layout:)` applies: the fused trunk, which alone runs shared-prefix layouts.
    public var supportsSharedPrefixes: Bool { canFuseTrunk }

    /// One token id per row of `layout`, in row order → the final normalised hidden state of every row
    /// (N, C). Each row computes what the plain forward computes at its position, with a group's prompt
    /// rows run once for all its members (TrunkLayout.swift). Needs `supportsSharedPrefixes`.
    public func hidden(tokens: [Int], layout: TrunkLayout) -> Tensor {
        precondition(canFuseTrunk, "shared-prefix layouts need GPT-2 blocks with biases (the fused trunk)")
        return fusedTrunk(tokens: tokens, layout: layout, shape: [layout.rows, config.modelWidth])
    }

    /// The trunk as the composite of the module ops: the specification the fused op is tested against.
    public func forwardComposite(
        tokens: [Int], batch: Int, time: Int, inspectProjection: ((Int, Tensor) -> Void)? = nil
    ) -> (logits: Tensor, hidden: Tensor) {
        let c = config.modelWidth
        var positions = [Int](repeating: 0, count: batch * time)
        for b in 0..<batch { for t in 0..<time { positions[b * time + t] = t } }
        var x = (tokenEmbedding(tokens) + positionEmbedding(positions)).reshaped([batch, time, c])  // (B, T, C)
        for (layer, block) in blocks.enumerated() {
            x = block(x, inspectProjection: inspectProjection.map { inspect in { inspect(layer, $0) } })
        }
        let hidden = finalLayerNorm(x)  // (B, T, C)
        return (logits(hidden), hidden)  // (B, T, V)
    }

    /// LM head: hidden (…, C) → logits (…, V), through the token embedding when tied.
    public func logits(_ hidden: Tensor) -> Tensor {
        config.tiedEmbeddings ? Tensor.linear(hidden, weight: tokenEmbedding.weight, bias: nil) : head(hidden)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("tok_emb", tokenEmbedding.namedParameters) + prefixed("pos_emb", positionEmbedding.namedParameters)
            + blocks.enumerated().flatMap { prefixed("blocks.\($0.offset)", $0.element.namedParameters) }
            + prefixed("ln_f", finalLayerNorm.namedParameters)
            + (config.tiedEmbeddings ? [] : prefixed("head", head.namedParameters))
    }
}
