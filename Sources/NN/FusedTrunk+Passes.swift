import Autograd

// The forward and backward passes of the fused trunk (FusedTrunk.swift) over one range of groups (plain
// sequences are groups of their own), on one thread. Each chunk of groups i₀..<i₁ owns the rows
// [rowStarts[i₀], rowStarts[i₁]) of every activation buffer (TrunkLayout.swift).

extension CausalTransformer {
    /// Forward for groups `groups` of `layout`: embeddings, L blocks, final LayerNorm into `output` (N, C).
    /// `parameters` holds the Linear weights as stored ([out, in]); `part` is the calling thread's index.
    func trunkForward(
        groups: Range<Int>, layout: TrunkLayout, tokens: UnsafePointer<Int>, parameters p: TrunkParameters,
        workspace w: TrunkWorkspace,
        part: Int, output: UnsafeMutablePointer<Float>
    ) {
        let c = config.modelWidth, f = config.mlpWidth
        let r0 = layout.rowStarts[groups.lowerBound], rows = layout.rowStarts[groups.upperBound] - r0
        let vocabulary = config.vocabularySize

        // x = tok_emb[token] + pos_emb[position]                            (rows, C)
        let x0 = w.layers.first?.residual ?? w.finalResidual
        layout.forEachRow(groups: groups) { r, position in
            let token = tokens[r]
            precondition(token >= 0 && token < vocabulary, "token id \(token) out of range 0..<\(vocabulary)")
            CPUKernels.add(p.tokenEmbedding + token * c, p.positionEmbedding + position * c, into: x0 + r * c, count: c)
        }
        for (l, layer) in p.layers.enumerated() {
            let a = w.layers[l], packed = w.packedWeights[l]
            let next = l + 1 < w.layers.count ? w.layers[l + 1].residual : w.finalResidual
            // LN₁, then qkv = LN₁(x)·Wᵀ + b                                  (rows, 3C)
            CPUKernels.layerNormForward(
                a.residual + r0 * c, weight: layer.norm1Weight, bias: layer.norm1Bias, rows: rows, c: c, epsilon: 1e-5,
                out: a.normed1 + r0 * c, normalized: a.norm1 + r0 * c, inverseStd: a.inverseStd1 + r0)
            linearForward(
                a.normed1 + r0 * c, rows: rows, inputs: c, outputs: 3 * c, packedWeight: packed.qkv,
                bias: layer.qkvBias, into: a.qkv + r0 * 3 * c)
            // Causal attention per (group, member, head)                   (rows, C)
            for i in groups { attentionForward(group: i, layout: layout, activations: a, workspace: w, part: part) }
            // middle = x + attended·Wᵀ + b, x added to each finished tile
            linearForward(
                a.attended + r0 * c, rows: rows, inputs: c, outputs: c, packedWeight: packed.projection,
                bias: layer.projectionBias, into: a.middle + r0 * c, epilogue: .add(addend: a.residual + r0 * c))
            // MLP: next = middle + GELU(LN₂(middle)·W_fcᵀ + b)·W_projᵀ + b  (rows, F) → (rows, C)
            CPUKernels.layerNormForward(
                a.middle + r0 * c, weight: layer.norm2Weight, bias: layer.norm2Bias, rows: rows, c: c, epsilon: 1e-5,
                out: a.normed2 + r0 * c, normalized: a.norm2 + r0 * c, inverseStd: a.inverseStd2 + r0)
            linearForward(
                a.normed2 + r0 * c, rows: rows, inputs: c, outputs: f, packedWeight: packed.fc, bias: layer.fcBias,
                into: a.activated + r0 * f)
            CPUKernels.geluForward(
                a.activated + r0 * f, derivative: a.geluDerivative + r0 * f, out: a.activated + r0 * f, count: rows * f)
            linearForward(
                a.activated + r0 * f, rows: rows, inputs: f, outputs: c, packedWeight: packed.out, bias: layer.outBias,
                into: next + r0 * c, epilogue: .add(addend: a.middle + r0 * c))
        }
        CPUKernels.layerNormForward(
            w.finalResidual + r0 * c, weight: p.finalWeight, bias: p.finalBias, rows: rows, c: c, epsilon: 1e-5,
            out: output + r0 * c, normalized: w.finalNorm + r0 * c, inverseStd: w.finalInverseStd + r0)
    }

    /// Attention of group i: its prompt's rows as one causal sequence, then each member's continuation
    /// rows against the prompt's keys and values and their own (the member's sequence gathered contiguously
    /// into the thread's scratch, its queries from position P_i on).
    private func attentionForward(
        group i: Int, layout: TrunkLayout, activations a: LayerActivations, workspace w: TrunkWorkspace, part: Int
    ) {
        let c = config.modelWidth, heads = config.heads, d = config.headSize, scale = 1 / Float(d).squareRoot()
        let (start, p, s) = (layout.rowStarts[i], layout.prefixLengths[i], layout.suffixLengths[i])
        let scratch = w.attentionScratch[part]
        let weights = attentionTables(group: i, layout: layout, activations: a, workspace: w)
        for h in 0..<heads {
            let q = a.qkv + start * 3 * c + h * d
            CPUKernels.attentionForward(
                q: q, k: q + c, v: q + 2 * c, stride: 3 * c, time: p, headSize: d, scale: scale,
                out: a.attended + start * c + h * d, outStride: c, weights: weights(0, h), scratch: scratch)
        }
        guard s > 0 else { return }
        let sequence = w.sequenceScratch[part]
        for m in 0..<layout.members {
            let first = start + p + m * s
            gatherSequence(
                a.qkv, prompt: start, promptRows: p, continuation: first, continuationRows: s, width: 3 * c,
                into: sequence)
            for h in 0..<heads {
                // Row t ≥ P of the gathered sequence is row first + (t − P) of the layout.
                CPUKernels.attentionForward(
                    q: sequence + h * d, k: sequence + c + h * d, v: sequence + 2 * c + h * d, stride: 3 * c,
                    time: p + s,
                    headSize: d, scale: scale, out: a.attended + (first - p) * c + h * d, outStride: c,
                    weights: weights(1 + m, h), scratch: scratch, firstQuery: p)
            }
        }
    }

    /// Where group i's softmax tables live: `(member, head)` → `attentionWeightsCount(time: T)` floats, member 0 the
    /// prompt's pass
    /// and 1 + m member m's.
    private func attentionTables(
        group i: Int, layout: TrunkLayout, activations a: LayerActivations, workspace w: TrunkWorkspace
    )
        -> (Int, Int) -> UnsafeMutablePointer<Float>
    {
        let heads = config.heads, area = CPUKernels.attentionWeightsCount(time: w.time), members = layout.members
        return { member, h in a.attention + ((i * (members + 1) + member) * heads + h) * area }
    }

    /// Copies `promptRows` rows from row `prompt` and `continuationRows` rows from row `continuation` of
    /// `source` (rows of `width` floats) into one contiguous sequence.
    private func gatherSequence(
        _ source: UnsafePointer<Float>, prompt: Int, promptRows: Int, continuation: Int, continuationRows: Int,
        width: Int,
        into sequence: UnsafeMutablePointer<Float>
    ) {
        sequence.update(from: source + prompt * width, count: promptRows * width)
        (sequence + promptRows * width).update(from: source + continuation * width, count: continuationRows * width)
    }

    /// y[rows, out] = x[rows, in]·Wᵀ + b (then the epilogue) with W [out, in] packed for the product
    /// (`TrunkWorkspace.packedWeights`).
    func linearForward(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, packedWeight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, epilogue: GemmEpilogue? = nil
    ) {
        CPUKernels.matmul(
            m: rows, n: outputs, k: inputs, a: x, lda: inputs, packedB: packedWeight, c: y, ldc: outputs,
            accumulate: false, bias: bias, epilogue: epilogue)
    }

    /// Backward of the fused trunk over the workspace's backward chunks, which the two threads take in
    /// turn; each chunk sums its parameter gradients privately, then the chunk sums are added in chunk
    /// order (over both threads, by parameter range) and into the parameters' gradients.
    func trunkBackward(
        tokens: [Int], layout: TrunkLayout, outputGradient: [Float], parents: [Tensor], workspace w: TrunkWorkspace
    ) {
        let count = w.parameterCount, per = w.backwardChunkSequences
        withTrunkParameters { parameters in
            let shared = UncheckedSendable((self, parameters, w))
            tokens.withUnsafeBufferPointer { tokenBuffer in
                outputGradient.withUnsafeBufferPointer { gradientBuffer in
                    let inputs = UncheckedSendable((tokenBuffer.baseAddress!, gradientBuffer.baseAddress!))
                    CPUKernels.shareChunks(count: w.groups, chunk: per) { part, groups in
                        let (model, parameters, w) = shared.value
                        let sums = w.gradientSums[groups.lowerBound / per]
                        model.clearAccumulatedGradients(in: sums)
                        model.trunkBackward(
                            groups: groups, layout: layout, tokens: inputs.value.0, outputGradient: inputs.value.1,
                            parameters: parameters,
                            workspace: w, sums: sums, part: part)
                    }
                }
            }
        }
        let chunks = (w.groups + per - 1) / per
        let total = w.gradientSums[0], sums = UncheckedSendable(w.gradientSums)
        if chunks > 1 {
            CPUKernels.split(count: count) { _, range in
                let sums = sums.value
                for chunk in 1..<chunks {
                    CPUKernels.add(
                        sums[0] + range.lowerBound, sums[chunk] + range.lowerBound, into: sums[0] + range.lowerBound,
                        count: range.count)
                }
            }
        }
        var offset = 0
        for tensor in parents {
            let size = tensor.count
            tensor.addToGradient { g in
                guard let destination = g.baseAddress else { return }
                CPUKernels.add(destination, total + offset, into: destination, count: size)
            }
            offset += size
        }
    }

    /// One chunk's backward. `parameters` holds the Linear weights as stored ([out, in]); `sums` is
    /// this chunk's flat gradient buffer in `trunkParameterTensors` order (zeroed by the caller).
    private func trunkBackward(
        groups: Range<Int>, layout: TrunkLayout, tokens: UnsafePointer<Int>, outputGradient: UnsafePointer<Float>,
        parameters p: TrunkParameters, workspace w: TrunkWorkspace, sums: UnsafeMutablePointer<Float>, part: Int
    ) {
        let c = config.modelWidth, f = config.mlpWidth
        let r0 = layout.rowStarts[groups.lowerBound], rows = layout.rowStarts[groups.upperBound] - r0
        let gradients = trunkGradientPointers(in: sums)

        let dx = w.residualGradient + r0 * c  // d(residual stream), (rows, C)
        let dNormed = w.normedGradient + r0 * c
        let dAttended = w.attendedGradient + r0 * c
        let dQKV = w.qkvGradient + r0 * 3 * c
        let dHidden = w.hiddenGradient + r0 * f

        // Final LayerNorm.
        dx.update(repeating: 0, count: rows * c)
        CPUKernels.layerNormBackward(
            outputGradient + r0 * c, weight: p.finalWeight, normalized: w.finalNorm + r0 * c,
            inverseStd: w.finalInverseStd + r0,
            rows: rows, c: c, inputGradient: dx, weightGradient: gradients.finalWeight,
            biasGradient: gradients.finalBias)

        for l in (0..<config.layers).reversed() {
            let a = w.layers[l], layer = p.layers[l]
            let g = gradients.layers[l]

            // next = middle + activated·W_outᵀ + b_out: dx holds d(next). dHidden = (dx·W_out) ⊙ GELU′, the
            // product multiplying each finished tile.
            linearBackward(
                dy: dx, x: a.activated + r0 * f, rows: rows, inputs: f, outputs: c, weight: layer.outWeight,
                weightGradient: g.outWeight, biasGradient: g.outBias, inputGradient: dHidden,
                inputEpilogue: .multiply(factor: a.geluDerivative + r0 * f))
            linearBackward(
                dy: dHidden, x: a.normed2 + r0 * c, rows: rows, inputs: c, outputs: f, weight: layer.fcWeight,
                weightGradient: g.fcWeight, biasGradient: g.fcBias, inputGradient: dNormed)
            // d(middle) = d(next) + LN₂ᵀ(dNormed), accumulated in place.
            CPUKernels.layerNormBackward(
                dNormed, weight: layer.norm2Weight, normalized: a.norm2 + r0 * c, inverseStd: a.inverseStd2 + r0,
                rows: rows, c: c, inputGradient: dx, weightGradient: g.norm2Weight, biasGradient: g.norm2Bias)
            // middle = x + attended·W_projᵀ + b_proj.
            linearBackward(
                dy: dx, x: a.attended + r0 * c, rows: rows, inputs: c, outputs: c, weight: layer.projectionWeight,
                weightGradient: g.projectionWeight, biasGradient: g.projectionBias, inputGradient: dAttended)
            // Plain sequences overwrite their rows of dQKV; shared prefixes add the members' shares into them.
            if layout.members > 0 { dQKV.update(repeating: 0, count: rows * 3 * c) }
            for i in groups { attentionBackward(group: i, layout: layout, activations: a, workspace: w, part: part) }
            linearBackward(
                dy: dQKV, x: a.normed1 + r0 * c, rows: rows, inputs: c, outputs: 3 * c, weight: layer.qkvWeight,
                weightGradient: g.qkvWeight, biasGradient: g.qkvBias, inputGradient: dNormed)
            // d(x) = d(middle) + LN₁ᵀ(dNormed).
            CPUKernels.layerNormBackward(
                dNormed, weight: layer.norm1Weight, normalized: a.norm1 + r0 * c, inverseStd: a.inverseStd1 + r0,
                rows: rows, c: c, inputGradient: dx, weightGradient: g.norm1Weight, biasGradient: g.norm1Bias)
        }
        // Embeddings: scatter-add each row's gradient into its token's and its position's rows.
        layout.forEachRow(groups: groups) { r, position in
            let row = w.residualGradient + r * c
            let token = tokens[r]
            CPUKernels.add(
                gradients.tokenEmbedding + token * c, row, into: gradients.tokenEmbedding + token * c, count: c)
            CPUKernels.add(
                gradients.positionEmbedding + position * c, row, into: gradients.positionEmbedding + position * c,
                count: c)
        }
    }

    /// Backward of `attentionForward(group:…)`: adds into the rows of `qkvGradient` (zeroed by the caller),
    /// or, for a layout without members, writes them.
    /// Each member's pass gives dq for its own rows and dk, dv for the prompt's rows as well, which are
    /// added to the prompt's own pass in member order.
    private func attentionBackward(
        group i: Int, layout: TrunkLayout, activations a: LayerActivations, workspace w: TrunkWorkspace, part: Int
    ) {
        let c = config.modelWidth, heads = config.heads, d = config.headSize, scale = 1 / Float(d).squareRoot()
        let (start, p, s) = (layout.rowStarts[i], layout.prefixLengths[i], layout.suffixLengths[i])
        let scratch = w.attentionScratch[part]
        let weights = attentionTables(group: i, layout: layout, activations: a, workspace: w)
        if s > 0 {
            let sequence = w.sequenceScratch[part], gradient = w.sequenceGradientScratch[part]
            for m in 0..<layout.members {
                let first = start + p + m * s
                gatherSequence(
                    a.qkv, prompt: start, promptRows: p, continuation: first, continuationRows: s, width: 3 * c,
                    into: sequence)
                gradient.update(repeating: 0, count: (p + s) * 3 * c)
                for h in 0..<heads {
                    CPUKernels.attentionBackward(
                        q: sequence + h * d, k: sequence + c + h * d, v: sequence + 2 * c + h * d, stride: 3 * c,
                        time: p + s,
                        headSize: d, scale: scale, weights: weights(1 + m, h),
                        outGradient: w.attendedGradient + (first - p) * c + h * d, outStride: c,
                        dq: gradient + h * d, dk: gradient + c + h * d, dv: gradient + 2 * c + h * d, scratch: scratch,
                        firstQuery: p)
                }
                let promptGradient = w.qkvGradient + start * 3 * c, ownGradient = w.qkvGradient + first * 3 * c
                CPUKernels.add(promptGradient, gradient, into: promptGradient, count: p * 3 * c)
                CPUKernels.add(ownGradient, gradient + p * 3 * c, into: ownGradient, count: s * 3 * c)
            }
        }
        for h in 0..<heads {
            // The next head's (or the next group's first head's) q, k, v and softmax table: the forward left
            // them in L3 or memory, and each row of a head is one cache line 3C floats from the next.
            prefetchAttentionBackward(
                group: h + 1 < heads ? i : i + 1, head: h + 1 < heads ? h + 1 : 0, layout: layout, activations: a,
                workspace: w)
            let offset = start * 3 * c + h * d
            let q = a.qkv + offset, dq = w.qkvGradient + offset
            CPUKernels.attentionBackward(
                q: q, k: q + c, v: q + 2 * c, stride: 3 * c, time: p, headSize: d, scale: scale, weights: weights(0, h),
                outGradient: w.attendedGradient + start * c + h * d, outStride: c,
                dq: dq, dk: dq + c, dv: dq + 2 * c, scratch: scratch, accumulate: layout.members > 0)
        }
    }

    /// Prefetches what the prompt pass of `attentionBackward(group:…)` reads for one head: the q, k, v columns of
    /// the group's prompt rows and the head's softmax table. Nothing past the last group.
    private func prefetchAttentionBackward(
        group i: Int, head h: Int, layout: TrunkLayout, activations a: LayerActivations, workspace w: TrunkWorkspace
    ) {
        guard i < layout.groups else { return }
        let c = config.modelWidth, d = config.headSize, start = layout.rowStarts[i], p = layout.prefixLengths[i]
        let q = a.qkv + start * 3 * c + h * d
        for part in 0..<3 { CPUKernels.prefetch(rows: p, width: d, stride: 3 * c, at: q + part * c) }
        let table = attentionTables(group: i, layout: layout, activations: a, workspace: w)(0, h)
        CPUKernels.prefetch(rows: 1, width: CPUKernels.attentionWeightsCount(time: p), stride: 0, at: table)
    }

    /// Zeroes a chunk's flat gradient sums except the four Linear weights of each block, which
    /// `linearBackward` writes (one product per chunk) rather than adds to.
    fileprivate func clearAccumulatedGradients(in sums: UnsafeMutablePointer<Float>) {
        var offset = 0
        for (index, tensor) in trunkParameterTensors.enumerated() {
            if !Self.isTrunkLinearWeight(index: index, layers: blocks.count) {
                (sums + offset).update(repeating: 0, count: tensor.count)
            }
            offset += tensor.count
        }
    }

    /// For y = x·Wᵀ + b (W [out, in]): gW = dyᵀ·x (overwritten: one product per chunk), gb += Σ dy, dx = dy·W
    /// (overwritten).
    private func linearBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int,
        weight: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>,
        inputEpilogue: GemmEpilogue? = nil
    ) {
        CPUKernels.addColumnSums(dy, rows: rows, columns: outputs, into: biasGradient)
        CPUKernels.matmulTransposedA(
            m: outputs, n: inputs, k: rows, a: dy, lda: outputs, b: x, ldb: inputs, c: weightGradient, ldc: inputs,
            accumulate: false)
        CPUKernels.matmul(
            m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: weight, ldb: inputs, c: inputGradient, ldc: inputs,
            accumulate: false,
            epilogue: inputEpilogue)
    }
}
