import Autograd
import Synchronization

// The GPT trunk (token + position embeddings → L pre-LN blocks → final LayerNorm) as one tape op with
// a hand-written backward, after llm.c's `train_gpt2.c`: activations go to one preallocated arena
// (reused between calls), and the batch is cut into chunks of whole sequences that the two cores take
// in turn, with no synchronisation inside a chunk: the forward in chunks of about 256 rows, the backward
// in halves, each of which accumulates its weight gradients privately; the halves' sums are added in a
// fixed order into the parameters' gradients at the end, so the result does not depend on the timing.
// The rows follow a `TrunkLayout`: plain sequences, or groups whose members share their prompt's rows.
//
// The composite of the module ops (`CausalTransformer.forwardComposite`) is the specification: tests
// compare this op with it (values and every parameter's gradient) and with PyTorch's fixture.
//
// Legend: B batch, T time, C width, H heads, D = C/H, F MLP width (4C), N rows (B·T when plain), L layers,
// G members of a shared-prefix group (0 when plain).

/// Where one layer's saved activations live in the arena (all row-major over the N rows).
struct LayerActivations {
    var residual: UnsafeMutablePointer<Float>  // (N, C) input of the block
    var norm1: UnsafeMutablePointer<Float>  // (N, C) x̂ of LN₁
    var inverseStd1: UnsafeMutablePointer<Float>  // (N)
    var normed1: UnsafeMutablePointer<Float>  // (N, C) LN₁ output
    var qkv: UnsafeMutablePointer<Float>  // (N, 3C)
    /// (groups, G + 1, H) softmax tables (`attentionWeightsCount`): the prompt's, then each member's.
    var attention: UnsafeMutablePointer<Float>
    var attended: UnsafeMutablePointer<Float>  // (N, C) heads concatenated
    var middle: UnsafeMutablePointer<Float>  // (N, C) residual after attention
    var norm2: UnsafeMutablePointer<Float>
    var inverseStd2: UnsafeMutablePointer<Float>
    var normed2: UnsafeMutablePointer<Float>
    var geluDerivative: UnsafeMutablePointer<Float>  // (N, F) GELU′ at the MLP's pre-activation
    /// (N, F) GELU output (the fc product is computed here, then activated in place).
    var activated: UnsafeMutablePointer<Float>
}

/// One layer's four Linear weights packed for the forward's products (`CPUKernels.pack`, transposed from W
/// [out, in] as stored): once per forward call, instead of once per chunk and product (the per-call packing of Bᵀ
/// is a scalar transpose, about 1 % of a GPT S step, perf). The products read the same packed floats either way.
struct PackedLayerWeights {
    var qkv, projection, fc, out: UnsafeMutablePointer<Float>
}

/// The shape of a workspace: what its arena's size depends on (not the layout's prompt lengths).
struct TrunkWorkspaceShape: Hashable {
    var groups: Int, members: Int, time: Int, rows: Int
    init(_ layout: TrunkLayout) {
        groups = layout.groups
        members = layout.members
        time = layout.time
        rows = layout.rows
    }
}

/// The arena of one call shape: forward activations, backward scratch, per-half gradient sums.
final class TrunkWorkspace: @unchecked Sendable {
    let shape: TrunkWorkspaceShape
    /// Groups (plain: sequences), the unit the threads take in turn; T.
    var groups: Int { shape.groups }
    var time: Int { shape.time }
    private let arena: UnsafeMutablePointer<Float>
    private let capacity: Int
    let layers: [LayerActivations]
    /// Input of the final LayerNorm (N, C), its x̂ and 1/σ.
    let finalResidual: UnsafeMutablePointer<Float>
    let finalNorm: UnsafeMutablePointer<Float>
    let finalInverseStd: UnsafeMutablePointer<Float>
    /// Backward scratch over the N rows: the residual gradient and per-op gradients.
    let residualGradient: UnsafeMutablePointer<Float>  // (N, C)
    let normedGradient: UnsafeMutablePointer<Float>  // (N, C)
    let attendedGradient: UnsafeMutablePointer<Float>  // (N, C)
    let qkvGradient: UnsafeMutablePointer<Float>  // (N, 3C)
    let hiddenGradient: UnsafeMutablePointer<Float>  // (N, F)
    /// Groups (plain: sequences) per chunk: the unit of work the two threads take in turn (`CPUKernels.shareChunks`),
    /// in the forward and in the backward. The backward takes halves: every chunk there keeps its own
    /// gradient sums, and 4 or 8 chunks measured slower than 2 (ABBA, 8 runs: GPT M median 0.93×).
    let chunkSequences: Int
    let backwardChunkSequences: Int
    /// Per thread: attention scratch.
    let attentionScratch: [UnsafeMutablePointer<Float>]
    /// Per thread: one member's sequence gathered contiguously (prompt rows, then its own), T × 3C, and
    /// its gradient: the attention kernels read a sequence's q, k, v at one stride.
    let sequenceScratch: [UnsafeMutablePointer<Float>]
    let sequenceGradientScratch: [UnsafeMutablePointer<Float>]
    /// Every layer's Linear weights packed for the forward (`CausalTransformer.packForwardWeights`).
    let packedWeights: [PackedLayerWeights]
    /// Per backward chunk: the private sum of every parameter's gradient over its rows (flat, in
    /// `trunkParameterTensors` order). Chunk sums are added in chunk order, so the gradient does not
    /// depend on which thread ran which chunk.
    let gradientSums: [UnsafeMutablePointer<Float>]
    let parameterCount: Int

    init(shape: TrunkWorkspaceShape, config: TransformerConfig, parameterCount: Int) {
        self.shape = shape
        self.parameterCount = parameterCount
        let n = shape.rows, time = shape.time, groups = shape.groups, c = config.modelWidth, f = config.mlpWidth,
            h = config.heads
        let attentionCount = groups * (shape.members + 1) * h * CPUKernels.attentionWeightsCount(time: time)
        let perLayer = n * (c * 8 + 3 * c + 2 * f + 2) + attentionCount
        let scratch = CPUKernels.attentionScratchCount(time: time, headSize: config.headSize)
        let sequence = shape.members > 0 ? time * 3 * c : 0
        chunkSequences = trunkChunkGroups(groups: groups, rowsPerGroup: max(1, n / max(1, groups)))
        backwardChunkSequences = (groups + 1) / 2
        let chunks = (groups + backwardChunkSequences - 1) / backwardChunkSequences
        let packedSizes = [(c, 3 * c), (c, c), (c, f), (f, c)].map { CPUKernels.packedCount(k: $0.0, n: $0.1) }
        let total =
            config.layers * perLayer + n * (3 * c + 1) + n * (3 * c + 3 * c + f) + 2 * scratch + 4 * sequence + chunks
            * parameterCount + config.layers * packedSizes.reduce(0, +) + 64
        let base = UnsafeMutablePointer<Float>.allocate(capacity: total)
        capacity = total
        arena = base
        var used = 0
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { used += count }
            precondition(used + count <= total, "trunk workspace overflow")
            return base + used
        }
        var layers: [LayerActivations] = []
        for _ in 0..<config.layers {
            layers.append(
                LayerActivations(
                    residual: take(n * c), norm1: take(n * c), inverseStd1: take(n), normed1: take(n * c),
                    qkv: take(n * 3 * c),
                    attention: take(attentionCount), attended: take(n * c), middle: take(n * c),
                    norm2: take(n * c), inverseStd2: take(n), normed2: take(n * c),
                    geluDerivative: take(n * f), activated: take(n * f)))
        }
        self.layers = layers
        finalResidual = take(n * c)
        finalNorm = take(n * c)
        finalInverseStd = take(n)
        residualGradient = take(n * c)
        normedGradient = take(n * c)
        attendedGradient = take(n * c)
        qkvGradient = take(n * 3 * c)
        hiddenGradient = take(n * f)
        attentionScratch = [take(scratch), take(scratch)]
        sequenceScratch = [take(sequence), take(sequence)]
        sequenceGradientScratch = [take(sequence), take(sequence)]
        gradientSums = (0..<chunks).map { _ in take(parameterCount) }
        packedWeights = (0..<config.layers).map { _ in
            PackedLayerWeights(
                qkv: take(packedSizes[0]), projection: take(packedSizes[1]), fc: take(packedSizes[2]),
                out: take(packedSizes[3]))
        }
    }

    deinit { arena.deallocate() }
}

/// Hands a workspace back to its trunk's pool when the tape node that used it is released.
final class WorkspaceLease: @unchecked Sendable {
    let workspace: TrunkWorkspace
    private let pool: WorkspacePool
    init(_ workspace: TrunkWorkspace, pool: WorkspacePool) {
        self.workspace = workspace
        self.pool = pool
    }
    deinit { pool.giveBack(workspace) }
}

/// Free workspaces of one trunk, by shape. Calls from several threads are safe.
final class WorkspacePool: Sendable {
    private let free = Mutex<[TrunkWorkspace]>([])
    /// At most this many idle workspaces are kept (a trainer alternates between two or three shapes).
    private let keep = 4

    func lease(shape: TrunkWorkspaceShape, make: () -> TrunkWorkspace) -> WorkspaceLease {
        let found = free.withLock { list -> TrunkWorkspace? in
            guard let index = list.firstIndex(where: { $0.shape == shape }) else { return nil }
            return list.remove(at: index)
        }
        return WorkspaceLease(found ?? make(), pool: self)
    }

    func giveBack(_ workspace: TrunkWorkspace) {
        free.withLock { list in
            list.append(workspace)
            if list.count > keep { list.removeFirst() }
        }
    }
}

/// One pointer per trunk parameter, by name, in `trunkParameterTensors` order: the parameters pinned by
/// `withTrunkParameters` (`Pointer` = `UnsafePointer<Float>`), or the places of their gradients in a
/// flat sum buffer (`UnsafeMutablePointer<Float>`).
struct TrunkPointers<Pointer> {
    struct Layer {
        var norm1Weight, norm1Bias: Pointer
        var qkvWeight, qkvBias: Pointer  // W [3C, C] (forward: Wᵀ [C, 3C])
        var projectionWeight, projectionBias: Pointer  // [C, C]
        var norm2Weight, norm2Bias: Pointer
        var fcWeight, fcBias: Pointer  // [F, C]
        var outWeight, outBias: Pointer  // [C, F]
    }
    var tokenEmbedding: Pointer  // [V, C]
    var positionEmbedding: Pointer  // [T_max, C]
    var layers: [Layer]
    var finalWeight, finalBias: Pointer

    /// Names the pointers of a list in `trunkParameterTensors` order (2 + 12 per layer + 2).
    init(_ p: [Pointer], layers count: Int) {
        precondition(p.count == 4 + 12 * count, "\(p.count) trunk pointers for \(count) layers")
        tokenEmbedding = p[0]
        positionEmbedding = p[1]
        layers = (0..<count).map { l in
            let o = 2 + 12 * l
            return Layer(
                norm1Weight: p[o], norm1Bias: p[o + 1], qkvWeight: p[o + 2], qkvBias: p[o + 3],
                projectionWeight: p[o + 4], projectionBias: p[o + 5], norm2Weight: p[o + 6], norm2Bias: p[o + 7],
                fcWeight: p[o + 8], fcBias: p[o + 9], outWeight: p[o + 10], outBias: p[o + 11])
        }
        finalWeight = p[2 + 12 * count]
        finalBias = p[3 + 12 * count]
    }
}

typealias TrunkParameters = TrunkPointers<UnsafePointer<Float>>

extension CausalTransformer {
    /// Every trunk parameter in a fixed order: the parents of the fused op and the layout of the
    /// flat gradient sums. The LM head is not part of the trunk.
    var trunkParameterTensors: [Tensor] {
        var list = [tokenEmbedding.weight, positionEmbedding.weight]
        for block in blocks {
            list += [
                block.layerNorm1.weight, block.layerNorm1.bias, block.attentionProjection.weight,
                block.attentionProjection.bias!,
                block.attentionOutput.weight, block.attentionOutput.bias!, block.layerNorm2.weight,
                block.layerNorm2.bias,
                block.mlpIn.weight, block.mlpIn.bias!, block.mlpOut.weight, block.mlpOut.bias!,
            ]
        }
        return list + [finalLayerNorm.weight, finalLayerNorm.bias]
    }

    /// Whether the fused op applies: GPT-2 blocks with biases on every Linear.
    var canFuseTrunk: Bool {
        blocks.allSatisfy {
            $0.attentionProjection.bias != nil && $0.attentionOutput.bias != nil && $0.mlpIn.bias != nil
                && $0.mlpOut.bias != nil
        }
    }

    /// Runs `body` with pointers to `arrays` (in order) valid for its duration.
    func withPinned<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        var pointers: [UnsafePointer<Float>] = []
        pointers.reserveCapacity(arrays.count)
        func pin(_ index: Int) -> R {
            if index == arrays.count { return body(pointers) }
            return arrays[index].withUnsafeBufferPointer { buffer in
                pointers.append(buffer.baseAddress ?? UnsafePointer(bitPattern: 16)!)
                return pin(index + 1)
            }
        }
        return pin(0)
    }

    /// The parameters as pointers, the four Linear weights of each block as stored ([out, in]): the
    /// forward's products transpose them while packing (`matmulTransposedB`), so a training step makes no
    /// transposed copies (which ran on one thread before every forward: 1.2 % of a GPT S step, perf).
    func withTrunkParameters<R>(_ body: (TrunkParameters) -> R) -> R {
        withPinned(trunkParameterArrays()) { body(TrunkParameters($0, layers: blocks.count)) }
    }

    /// The values of `trunkParameterTensors`, as stored.
    func trunkParameterArrays() -> [[Float]] {
        trunkParameterTensors.map(\.data)
    }

    /// Whether entry `index` of `trunkParameterTensors` is a block's Linear weight: offsets 2, 4, 8, 10
    /// within each block's 12.
    static func isTrunkLinearWeight(index: Int, layers: Int) -> Bool {
        index >= 2 && index < 2 + 12 * layers && [2, 4, 8, 10].contains((index - 2) % 12)
    }

    /// Where each trunk parameter's gradient lives in a flat sum buffer laid out in `trunkParameterTensors` order.
    func trunkGradientPointers(in sums: UnsafeMutablePointer<Float>) -> TrunkPointers<UnsafeMutablePointer<Float>> {
        var offset = 0
        let pointers = trunkParameterTensors.map { tensor in
            defer { offset += tensor.count }
            return sums + offset
        }
        return TrunkPointers(pointers, layers: blocks.count)
    }

    /// Token ids (B × T, row-major) → the final LayerNorm's output (B, T, C), as one tape op whose
    /// parents are every trunk parameter. `inspectProjection(layer, qkv)`, when given, sees a copy of
    /// each block's (B, T, 3C) projection (a sampler's prefill fills its key/value cache from it).
    func fusedTrunk(tokens: [Int], batch: Int, time: Int, inspectProjection: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        fusedTrunk(
            tokens: tokens, layout: .plain(batch: batch, time: time), shape: [batch, time, config.modelWidth],
            inspectProjection: inspectProjection)
    }

    /// One token id per row of `layout` → the final LayerNorm's output (N, C) reshaped to `shape`, as one
    /// tape op whose parents are every trunk parameter. `inspectProjection` sees each block's (N, 3C)
    /// projection as a tensor of shape `shape` with 3C in the last axis.
    func fusedTrunk(
        tokens: [Int], layout: TrunkLayout, shape: [Int], inspectProjection: ((Int, Tensor) -> Void)? = nil
    ) -> Tensor {
        let c = config.modelWidth, n = layout.rows
        precondition(tokens.count == n, "\(tokens.count) tokens for a layout of \(n) rows")
        precondition(
            layout.time <= config.contextLength,
            "sequence length \(layout.time) exceeds the context length \(config.contextLength)")
        let parents = trunkParameterTensors
        let lease = workspacePool.lease(shape: TrunkWorkspaceShape(layout)) {
            TrunkWorkspace(
                shape: TrunkWorkspaceShape(layout), config: config, parameterCount: parents.reduce(0) { $0 + $1.count })
        }
        let workspace = lease.workspace
        let hidden = [Float](unsafeUninitializedCapacity: n * c) { buffer, initialized in
            let output = UncheckedSendable(buffer.baseAddress!)
            withTrunkParameters { parameters in
                let shared = UncheckedSendable((self, parameters, workspace))
                packForwardWeights(parameters, into: workspace)
                tokens.withUnsafeBufferPointer { tokenBuffer in
                    let ids = UncheckedSendable(tokenBuffer.baseAddress!)
                    CPUKernels.shareChunks(count: layout.groups, chunk: workspace.chunkSequences) { part, groups in
                        let (model, parameters, workspace) = shared.value
                        model.trunkForward(
                            groups: groups, layout: layout, tokens: ids.value, parameters: parameters,
                            workspace: workspace,
                            part: part, output: output.value)
                    }
                }
            }
            initialized = n * c
        }
        if let inspectProjection {
            let projectionShape = shape.dropLast() + [3 * c]
            for (l, layer) in workspace.layers.enumerated() {
                inspectProjection(
                    l,
                    Tensor(
                        shape: Array(projectionShape),
                        data: Array(UnsafeBufferPointer(start: layer.qkv, count: n * 3 * c))))
            }
        }
        return Tensor.recorded(shape: shape, data: hidden, parents: parents) { output in
            let gradient = output.grad!
            self.trunkBackward(
                tokens: tokens, layout: layout, outputGradient: gradient, parents: parents, workspace: lease.workspace)
        }
    }
}

extension CausalTransformer {
    /// Packs every layer's four Linear weights into `workspace.packedWeights`, the 4L weights split over the two
    /// kernel threads.
    func packForwardWeights(_ parameters: TrunkParameters, into workspace: TrunkWorkspace) {
        let c = config.modelWidth, f = config.mlpWidth
        let shared = UncheckedSendable((parameters, workspace))
        CPUKernels.split(count: 4 * config.layers) { _, range in
            let (parameters, workspace) = shared.value
            for index in range {
                let layer = parameters.layers[index / 4], packed = workspace.packedWeights[index / 4]
                // (W [out, in], in, out, destination)
                let (weight, inputs, outputs, destination) =
                    switch index % 4 {
                    case 0: (layer.qkvWeight, c, 3 * c, packed.qkv)
                    case 1: (layer.projectionWeight, c, c, packed.projection)
                    case 2: (layer.fcWeight, c, f, packed.fc)
                    default: (layer.outWeight, f, c, packed.out)
                    }
                CPUKernels.pack(weight, ldb: inputs, k: inputs, n: outputs, transposed: true, into: destination)
            }
        }
    }
}

/// Groups (plain: sequences) per chunk of the trunk's forward: about 256 rows and at most 8 chunks, so
/// that a thread slowed by another process on its core takes fewer chunks (measured on this VM: the two
/// halves of a static split took up to 20 % apart).
func trunkChunkGroups(groups: Int, rowsPerGroup: Int) -> Int {
    let byRows = max(1, 256 / max(1, rowsPerGroup))
    return max(byRows, (groups + 7) / 8)
}
