import Autograd
import Foundation
import NN
import Randomness

/// Batched autoregressive sampling with a per-layer key/value cache (no tape).
///
/// Rows may have prompts of different lengths and stay aligned in position: at step s a row whose
/// prompt is longer than s is fed its prompt token (prefill); otherwise it is fed the token it sampled
/// at s − 1. Every position is computed once, so a step costs O(t) attention instead of O(t²).
public struct SamplingOptions: Sendable, Equatable {
    /// T: divides the logits (must be > 0); `greedy` takes the argmax instead of sampling.
    public var temperature: Float = 1
    public var greedy = false
    /// Keep only the k most likely tokens (nil: all).
    public var topK: Int?
    public var maxNewTokens = 8
    /// Stop a row when it emits this token (it is kept in the completion).
    public var stopToken: Int?
    public init(temperature: Float = 1, greedy: Bool = false, topK: Int? = nil, maxNewTokens: Int = 8, stopToken: Int? = nil) {
        self.temperature = temperature
        self.greedy = greedy
        self.topK = topK
        self.maxNewTokens = maxNewTokens
        self.stopToken = stopToken
    }
}

public struct SampledCompletion: Sendable, Equatable {
    /// Generated token ids (stop token included when emitted).
    public var tokens: [Int]
    /// log-probability of each generated token under the sampling distribution (after temperature and top-k).
    public var logProbabilities: [Float]
    public var totalLogProbability: Float { logProbabilities.reduce(0, +) }
}

/// Per-layer key and value caches: (B, T_max, C) each.
struct KeyValueCache {
    var keys: [[Float]]
    var values: [[Float]]
}

extension TransformerPolicy {
    /// Logits (B, V) and values (B) of one position for every row, appending its keys and values to the cache.
    func decodeStep(tokens: [Int], position: Int, cache: inout KeyValueCache) -> (logits: [Float], values: [Float]) {
        let batch = tokens.count, c = config.modelWidth, heads = config.heads, headSize = config.headSize
        let maxTime = config.contextLength
        return Tensor.withoutGradients {
            var x = trunk.tokenEmbedding(tokens) + trunk.positionEmbedding([Int](repeating: position, count: batch))  // (B, C)
            for (layer, block) in trunk.blocks.enumerated() {
                let qkv = block.attentionProjection(block.layerNorm1(x)).data                                         // (B, 3C)
                var attended = [Float](repeating: 0, count: batch * c)
                let scale = 1 / Float(headSize).squareRoot()
                var scores = [Float](repeating: 0, count: position + 1)
                // Raw pointers: indexing the nested cache arrays in the inner loops cost bounds and uniqueness checks.
                cache.keys[layer].withUnsafeMutableBufferPointer { keyBuffer in
                    cache.values[layer].withUnsafeMutableBufferPointer { valueBuffer in
                        qkv.withUnsafeBufferPointer { qkvBuffer in
                            attended.withUnsafeMutableBufferPointer { outBuffer in
                                scores.withUnsafeMutableBufferPointer { scoreBuffer in
                                    let keys = keyBuffer.baseAddress!, values = valueBuffer.baseAddress!, projected = qkvBuffer.baseAddress!
                                    let out = outBuffer.baseAddress!, score = scoreBuffer.baseAddress!
                                    for b in 0..<batch {
                                        let cacheRow = (b * maxTime + position) * c
                                        (keys + cacheRow).update(from: projected + b * 3 * c + c, count: c)
                                        (values + cacheRow).update(from: projected + b * 3 * c + 2 * c, count: c)
                                        for h in 0..<heads {
                                            let q = projected + b * 3 * c + h * headSize
                                            var maximum = -Float.infinity
                                            for u in 0...position {
                                                score[u] = dot(q, keys + (b * maxTime + u) * c + h * headSize, headSize) * scale
                                                maximum = max(maximum, score[u])
                                            }
                                            var total: Float = 0
                                            for u in 0...position { score[u] = Foundation.exp(score[u] - maximum); total += score[u] }
                                            let inverse = 1 / total
                                            let destination = out + b * c + h * headSize
                                            for u in 0...position {
                                                axpy(score[u] * inverse, values + (b * maxTime + u) * c + h * headSize, destination, headSize)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                x = x + block.attentionOutput(Tensor(shape: [batch, c], data: attended))
                x = x + block.mlpOut(block.mlpIn(block.layerNorm2(x)).gelu())
            }
            let hidden = trunk.finalLayerNorm(x)
            return (trunk.logits(hidden).data, valueHead(hidden).data)
        }
    }

    func emptyCache(batch: Int) -> KeyValueCache {
        let size = batch * config.contextLength * config.modelWidth
        return KeyValueCache(keys: Array(repeating: [Float](repeating: 0, count: size), count: config.layers),
                             values: Array(repeating: [Float](repeating: 0, count: size), count: config.layers))
    }

    /// Completions for each prompt (token ids, e.g. BOS + characters), sampled with the KV cache.
    public func sample(prompts: [[Int]], options: SamplingOptions, generator: inout SeededGenerator) -> [SampledCompletion] {
        precondition(options.temperature > 0 || options.greedy, "temperature must be > 0")
        let batch = prompts.count
        guard batch > 0 else { return [] }
        let longest = prompts.map(\.count).max()!
        precondition(prompts.allSatisfy { !$0.isEmpty }, "every prompt needs at least one token")
        let lastPosition = min(config.contextLength, longest + options.maxNewTokens) - 1
        var cache = emptyCache(batch: batch)
        var completions = [SampledCompletion](repeating: SampledCompletion(tokens: [], logProbabilities: []), count: batch)
        var finished = [Bool](repeating: false, count: batch)
        var current = prompts.map { $0[0] }
        let vocabulary = config.vocabularySize
        var firstPosition = 0
        if options.maxNewTokens > 0 && longest < config.contextLength && prompts.allSatisfy({ $0.count == longest }) {
            // Prefill: one batched forward over the distinct prompts (a GRPO batch repeats each prompt G
            // times) fills every row's cache for positions 0..<L and gives the logits of the first new token.
            let logits = prefill(prompts: prompts, cache: &cache)
            var scratch = [Float](repeating: 0, count: vocabulary)
            for b in 0..<batch {
                let (token, logProbability) = Self.choose(logits, row: b, vocabulary: vocabulary, options: options, scratch: &scratch, generator: &generator)
                completions[b].tokens.append(token)
                completions[b].logProbabilities.append(logProbability)
                current[b] = token
                if token == options.stopToken || options.maxNewTokens <= 1 { finished[b] = true }
            }
            if finished.allSatisfy({ $0 }) { return completions }
            firstPosition = longest
        }
        var scratch = [Float](repeating: 0, count: vocabulary)
        for position in firstPosition..<lastPosition {
            let (logits, _) = decodeStep(tokens: current, position: position, cache: &cache)
            for b in 0..<batch {
                if position + 1 < prompts[b].count {
                    current[b] = prompts[b][position + 1]
                    continue
                }
                if finished[b] || completions[b].tokens.count >= options.maxNewTokens {
                    finished[b] = true
                    current[b] = options.stopToken ?? 0
                    continue
                }
                let (token, logProbability) = Self.choose(logits, row: b, vocabulary: vocabulary, options: options, scratch: &scratch, generator: &generator)
                completions[b].tokens.append(token)
                completions[b].logProbabilities.append(logProbability)
                current[b] = token
                if token == options.stopToken { finished[b] = true }
            }
            if finished.allSatisfy({ $0 }) { break }
        }
        return completions
    }

    /// Runs the prompts (all of one length L) through the trunk at once, each distinct prompt once;
    /// writes every row's keys and values for positions 0..<L into `cache` and returns the logits (B, V)
    /// at position L − 1.
    func prefill(prompts: [[Int]], cache: inout KeyValueCache) -> [Float] {
        let batch = prompts.count, time = prompts[0].count, c = config.modelWidth, maxTime = config.contextLength
        let vocabulary = config.vocabularySize
        var distinct: [[Int]] = []
        var indexOf: [[Int]: Int] = [:]
        let source = prompts.map { prompt in
            if let index = indexOf[prompt] { return index }
            indexOf[prompt] = distinct.count
            distinct.append(prompt)
            return distinct.count - 1
        }
        let unique = distinct.count
        var projections: [[Float]] = []
        let logits = Tensor.withoutGradients {
            trunk.forward(tokens: distinct.flatMap { $0 }, batch: unique, time: time) { _, qkv in projections.append(qkv.data) }.logits.data
        }
        for layer in 0..<config.layers {
            projections[layer].withUnsafeBufferPointer { qkvBuffer in
                cache.keys[layer].withUnsafeMutableBufferPointer { keyBuffer in
                    cache.values[layer].withUnsafeMutableBufferPointer { valueBuffer in
                        let qkv = qkvBuffer.baseAddress!, keys = keyBuffer.baseAddress!, values = valueBuffer.baseAddress!
                        for b in 0..<batch {
                            for t in 0..<time {
                                let from = qkv + (source[b] * time + t) * 3 * c, to = (b * maxTime + t) * c
                                (keys + to).update(from: from + c, count: c)
                                (values + to).update(from: from + 2 * c, count: c)
                            }
                        }
                    }
                }
            }
        }
        var last = [Float](repeating: 0, count: batch * vocabulary)
        for b in 0..<batch {
            let from = (source[b] * time + time - 1) * vocabulary
            for v in 0..<vocabulary { last[b * vocabulary + v] = logits[from + v] }
        }
        return last
    }

    /// `choose` for row `row` of a (B, V) logits array, without copying the row: `scratch` (V floats) holds
    /// the weights. Same arithmetic, in the same order, as `choose(_:options:generator:)`.
    static func choose(_ logits: [Float], row: Int, vocabulary: Int, options: SamplingOptions, scratch: inout [Float], generator: inout SeededGenerator) -> (Int, Float) {
        if options.topK != nil {
            return choose(Array(logits[(row * vocabulary)..<((row + 1) * vocabulary)]), options: options, generator: &generator)
        }
        let base = row * vocabulary
        var maximum = -Float.infinity
        for v in 0..<vocabulary {
            let x = options.greedy ? logits[base + v] : logits[base + v] / options.temperature
            scratch[v] = x
            maximum = max(maximum, x)
        }
        var total: Float = 0
        var best = 0
        for v in 0..<vocabulary {
            scratch[v] = Foundation.exp(scratch[v] - maximum)
            total += scratch[v]
            if scratch[v] > scratch[best] { best = v }
        }
        let token = options.greedy ? best : generator.nextCategorical(weights: scratch)
        return (token, Foundation.log(scratch[token] / total))
    }

    /// Picks a token from one row of logits; returns it with its log-probability under the sampling distribution.
    static func choose(_ logits: [Float], options: SamplingOptions, generator: inout SeededGenerator) -> (Int, Float) {
        var scaled = options.greedy ? logits : logits.map { $0 / options.temperature }
        if let k = options.topK, k < scaled.count {
            let threshold = scaled.sorted(by: >)[max(0, k - 1)]
            scaled = scaled.map { $0 >= threshold ? $0 : -Float.infinity }
        }
        let m = scaled.max()!
        let weights = scaled.map { Foundation.exp($0 - m) }
        let total = weights.reduce(0, +)
        let token = options.greedy ? weights.indices.max { weights[$0] < weights[$1] }! : generator.nextCategorical(weights: weights)
        return (token, Foundation.log(weights[token] / total))
    }
}
