import Autograd

// One position of batched autoregressive decoding with a key/value cache, on raw pointers and no
// tape: every row's token goes through the L blocks attending to its cached keys and values, and
// the step's keys and values are appended. The rows are split over the two cores (one hand-off per
// step). The composite it must agree with is `forwardComposite` over the whole prefix (tests).

/// Per-layer key and value caches, (B, T_max, C) each, and the per-step scratch rows, in one allocation.
public final class KeyValueCache: @unchecked Sendable {
    public let batch: Int
    let contextLength: Int, width: Int
    let mlpWidth: Int
    private let storage: UnsafeMutablePointer<Float>
    private let cacheFloats: Int
    /// The weights as the decode step reads them (`CausalTransformer.decodeParameters`: Linear weights
    /// packed), taken at the cache's first step: the keys and values it holds come from those weights,
    /// and re-packing every Linear at every step cost about as much as a small model's step itself.
    var decodeParameters: [[Float]]?

    public init(batch: Int, config: TransformerConfig) {
        self.batch = batch
        contextLength = config.contextLength
        width = config.modelWidth
        mlpWidth = config.mlpWidth
        cacheFloats = 2 * config.layers * batch * config.contextLength * config.modelWidth
        // Per row: x, middle, normed, x̂ (C each), 1/σ, qkv (3C), attended (C), three F-wide MLP buffers
        // and the attention scores (T_max).
        let rowScratch = 8 * config.modelWidth + 1 + 3 * config.mlpWidth + config.contextLength
        let total = cacheFloats + batch * rowScratch
        // Not zeroed: a position's keys and values are written before any step reads them (zeroing the
        // 4 MB of a GRPO batch's cache cost more than its decode steps).
        storage = UnsafeMutablePointer<Float>.allocate(capacity: total)
    }

    deinit { storage.deallocate() }

    /// Keys of `layer`: row b, position t at `keys(layer) + (b · T_max + t) · C`.
    public func keys(_ layer: Int) -> UnsafeMutablePointer<Float> {
        storage + 2 * layer * batch * contextLength * width
    }
    public func values(_ layer: Int) -> UnsafeMutablePointer<Float> {
        storage + (2 * layer + 1) * batch * contextLength * width
    }

    /// Stores row `row`'s key and value at `position` from a fused projection row (q | k | v, 3C).
    public func store(layer: Int, row: Int, position: Int, projection: UnsafePointer<Float>) {
        let offset = (row * contextLength + position) * width
        (keys(layer) + offset).update(from: projection + width, count: width)
        (values(layer) + offset).update(from: projection + 2 * width, count: width)
    }

    /// The step's scratch matrices over the B rows (row-major, row r at `+ r · width`).
    struct Scratch {
        var x, middle, normed, xhat, inverseStd, qkv, attended, preActivation, tanh, activated,
            scores: UnsafeMutablePointer<Float>
    }

    var scratch: Scratch {
        let f = mlpWidth
        var next = storage + cacheFloats
        func take(_ perRow: Int) -> UnsafeMutablePointer<Float> { defer { next += batch * perRow }; return next }
        return Scratch(
            x: take(width), middle: take(width), normed: take(width), xhat: take(width), inverseStd: take(1),
            qkv: take(3 * width),
            attended: take(width), preActivation: take(f), tanh: take(f), activated: take(f),
            scores: take(contextLength))
    }
}

extension CausalTransformer {
    /// Feeds `tokens[b]` at `position` for every row b (the cache holds positions 0..<position) and
    /// returns the logits (B, V) and the final hidden state (B, C) of that position.
    public func decodeStep(tokens: [Int], position: Int, cache: KeyValueCache) -> (logits: [Float], hidden: [Float]) {
        let batch = tokens.count, c = config.modelWidth, vocabulary = config.vocabularySize
        precondition(batch == cache.batch, "decodeStep got \(batch) tokens for a cache of \(cache.batch) rows")
        precondition(
            position >= 0 && position < config.contextLength,
            "position \(position) outside the context 0..<\(config.contextLength)")
        for token in tokens {
            precondition(token >= 0 && token < vocabulary, "token id \(token) out of range 0..<\(vocabulary)")
        }
        var logits = [Float](repeating: 0, count: batch * vocabulary)
        var hidden = [Float](repeating: 0, count: batch * c)
        if cache.decodeParameters == nil { cache.decodeParameters = decodeParameters() }
        withPinned(cache.decodeParameters!) { pointers in
            let parameters = TrunkParameters(Array(pointers.dropLast()), layers: blocks.count),
                packedHead = pointers[pointers.count - 1]
            logits.withUnsafeMutableBufferPointer { logitBuffer in
                hidden.withUnsafeMutableBufferPointer { hiddenBuffer in
                    let shared = UncheckedSendable(
                        (self, parameters, logitBuffer.baseAddress!, hiddenBuffer.baseAddress!, packedHead))
                    CPUKernels.split(count: batch) { _, rows in
                        let (model, parameters, logits, hidden, packedHead) = shared.value
                        model.decodeRows(
                            rows, tokens: tokens, position: position, parameters: parameters, cache: cache,
                            packedHead: packedHead, logits: logits, hidden: hidden)
                    }
                }
            }
        }
        return (logits, hidden)
    }

    /// The trunk's parameters with each Linear weight packed for the gemm as the B = Wᵀ [in, out] of
    /// y = x·Wᵀ (`CPUKernels.pack`, transposing W [out, in] as stored while it packs), then the LM head's
    /// weight packed the same way: a step multiplies a few rows by each weight, and packing the weights
    /// at every product cost as much as the products (GPT M).
    func decodeParameters() -> [[Float]] {
        let c = config.modelWidth, f = config.mlpWidth
        var arrays = trunkParameterArrays()
        for l in 0..<blocks.count {
            // Offsets of the Linear weights within a block's 12 parameters, with their (in, out).
            for (offset, inputs, outputs) in [(2, c, 3 * c), (4, c, c), (8, c, f), (10, f, c)] {
                arrays[2 + 12 * l + offset] = Self.packed(arrays[2 + 12 * l + offset], inputs: inputs, outputs: outputs)
            }
        }
        let headWeight = (config.tiedEmbeddings ? tokenEmbedding.weight : head.weight).data
        return arrays + [Self.packed(headWeight, inputs: c, outputs: config.vocabularySize)]
    }

    /// A weight W [outputs, inputs] as stored, packed as the B = Wᵀ of y = x·Wᵀ by `CPUKernels.pack`.
    static func packed(_ weight: [Float], inputs: Int, outputs: Int) -> [Float] {
        let count = CPUKernels.packedCount(k: inputs, n: outputs)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            weight.withUnsafeBufferPointer {
                CPUKernels.pack(
                    $0.baseAddress!, ldb: inputs, k: inputs, n: outputs, transposed: true, into: buffer.baseAddress!)
            }
            initialized = count
        }
    }

    /// y[rows, out] = x[rows, in]·W + b with Wᵀ packed (`decodeParameters`).
    private func packedLinearForward(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, packedWeight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        CPUKernels.matmul(
            m: rows, n: outputs, k: inputs, a: x, lda: inputs, packedB: packedWeight, c: y, ldc: outputs,
            accumulate: false, bias: bias)
    }

    /// Rows `rows` of `decodeStep` through every layer, as (rows, ·) matrix products; the Linear weights
    /// of `parameters` and the LM head are packed (`decodeParameters`).
    private func decodeRows(
        _ rows: Range<Int>, tokens: [Int], position: Int, parameters p: TrunkParameters, cache: KeyValueCache,
        packedHead: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
    ) {
        let c = config.modelWidth, f = config.mlpWidth, heads = config.heads, d = config.headSize,
            vocabulary = config.vocabularySize
        let scale = 1 / Float(d).squareRoot(), maxTime = config.contextLength
        let r0 = rows.lowerBound, n = rows.count
        let s = cache.scratch
        let x = s.x + r0 * c, middle = s.middle + r0 * c, normed = s.normed + r0 * c, xhat = s.xhat + r0 * c,
            inverseStd = s.inverseStd + r0
        let qkv = s.qkv + r0 * 3 * c, attended = s.attended + r0 * c
        let preActivation = s.preActivation + r0 * f, tanh = s.tanh + r0 * f, activated = s.activated + r0 * f

        for r in rows {
            CPUKernels.add(
                p.tokenEmbedding + tokens[r] * c, p.positionEmbedding + position * c, into: s.x + r * c, count: c)
        }
        for (l, layer) in p.layers.enumerated() {
            CPUKernels.layerNormForward(
                x, weight: layer.norm1Weight, bias: layer.norm1Bias, rows: n, c: c, epsilon: 1e-5, out: normed,
                normalized: xhat, inverseStd: inverseStd)
            packedLinearForward(
                normed, rows: n, inputs: c, outputs: 3 * c, packedWeight: layer.qkvWeight, bias: layer.qkvBias,
                into: qkv)
            for r in rows {
                let projection = s.qkv + r * 3 * c
                cache.store(layer: l, row: r, position: position, projection: projection)
                let keys = cache.keys(l) + r * maxTime * c, values = cache.values(l) + r * maxTime * c
                let scores = s.scores + r * maxTime
                for h in 0..<heads {
                    let q = projection + h * d
                    for u in 0...position { scores[u] = dot(q, keys + u * c + h * d, d) * scale }
                    CPUKernels.softmax(inPlace: scores, count: position + 1)
                    CPUKernels.weightedRowSum(
                        scores, coefficientStride: 1, count: position + 1, rows: values + h * d, rowStride: c,
                        width: d, into: s.attended + r * c + h * d, accumulate: false)
                }
            }
            packedLinearForward(
                attended, rows: n, inputs: c, outputs: c, packedWeight: layer.projectionWeight,
                bias: layer.projectionBias, into: middle)
            CPUKernels.add(middle, x, into: middle, count: n * c)
            CPUKernels.layerNormForward(
                middle, weight: layer.norm2Weight, bias: layer.norm2Bias, rows: n, c: c, epsilon: 1e-5, out: normed,
                normalized: xhat, inverseStd: inverseStd)
            packedLinearForward(
                normed, rows: n, inputs: c, outputs: f, packedWeight: layer.fcWeight, bias: layer.fcBias,
                into: preActivation)
            CPUKernels.geluForward(preActivation, tanh: tanh, out: activated, count: n * f)
            packedLinearForward(
                activated, rows: n, inputs: f, outputs: c, packedWeight: layer.outWeight, bias: layer.outBias, into: x)
            CPUKernels.add(x, middle, into: x, count: n * c)
        }
        CPUKernels.layerNormForward(
            x, weight: p.finalWeight, bias: p.finalBias, rows: n, c: c, epsilon: 1e-5, out: hidden + r0 * c,
            normalized: xhat, inverseStd: inverseStd)
        CPUKernels.matmul(
            m: n, n: vocabulary, k: c, a: hidden + r0 * c, lda: c, packedB: packedHead, c: logits + r0 * vocabulary,
            ldc: vocabulary, accumulate: false)
    }
}
