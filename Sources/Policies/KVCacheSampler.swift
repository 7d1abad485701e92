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
    /// Nucleus sampling: keep only the most likely tokens whose probabilities first reach p (nil: all).
    public var topP: Float?
    public var maxNewTokens = 8
    /// Stop a row when it emits this token (it is kept in the completion).
    public var stopToken: Int?
    public init(
        temperature: Float = 1, greedy: Bool = false, topK: Int? = nil, topP: Float? = nil, maxNewTokens: Int = 8,
        stopToken: Int? = nil
    ) {
        self.temperature = temperature
        self.greedy = greedy
        self.topK = topK
        self.topP = topP
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

extension TransformerPolicy {
    /// Logits (B, V) and values (B) of one position for every row, appending its keys and values to the
    /// cache (the trunk's fused decode step, NN/DecodeStep.swift).
    func decodeStep(tokens: [Int], position: Int, cache: KeyValueCache) -> (logits: [Float], values: [Float]) {
        let (logits, hidden) = trunk.decodeStep(tokens: tokens, position: position, cache: cache)
        let c = config.modelWidth
        let weight = valueHead.weight.data, bias = valueHead.bias?.data[0] ?? 0
        let values = hidden.withUnsafeBufferPointer { h in
            weight.withUnsafeBufferPointer { w in
                (0..<tokens.count).map { b in dot(h.baseAddress! + b * c, w.baseAddress!, c) + bias }
            }
        }
        return (logits, values)
    }

    func emptyCache(batch: Int) -> KeyValueCache {
        KeyValueCache(batch: batch, config: config)
    }

    /// Completions for each prompt (token ids, e.g. BOS + characters), sampled with the KV cache.
    public func sample(
        prompts: [[Int]], options: SamplingOptions, generator: inout SeededGenerator
    ) -> [SampledCompletion] {
        precondition(options.temperature > 0 || options.greedy, "temperature must be > 0")
        let batch = prompts.count
        guard batch > 0 else { return [] }
        let longest = prompts.map(\.count).max()!
        precondition(prompts.allSatisfy { !$0.isEmpty }, "every prompt needs at least one token")
        let lastPosition = min(config.contextLength, longest + options.maxNewTokens) - 1
        let cache = emptyCache(batch: batch)
        var completions = [SampledCompletion](
            repeating: SampledCompletion(tokens: [], logProbabilities: []), count: batch)
        var finished = [Bool](repeating: false, count: batch)
        var current = prompts.map { $0[0] }
        let vocabulary = config.vocabularySize
        var firstPosition = 0
        if options.maxNewTokens > 0 && longest < config.contextLength && prompts.allSatisfy({ $0.count == longest }) {
            // Prefill: one batched forward over the distinct prompts (a GRPO batch repeats each prompt G
            // times) fills every row's cache for positions 0..<L and gives the logits of the first new token.
            let logits = prefill(prompts: prompts, cache: cache)
            var scratch = SamplingScratch(vocabulary: vocabulary)
            for b in 0..<batch {
                let (token, logProbability) = Self.choose(
                    logits, row: b, vocabulary: vocabulary, options: options, scratch: &scratch, generator: &generator)
                completions[b].tokens.append(token)
                completions[b].logProbabilities.append(logProbability)
                current[b] = token
                if token == options.stopToken || options.maxNewTokens <= 1 { finished[b] = true }
            }
            if finished.allSatisfy({ $0 }) { return completions }
            firstPosition = longest
        }
        var scratch = SamplingScratch(vocabulary: vocabulary)
        for position in firstPosition..<lastPosition {
            let (logits, _) = decodeStep(tokens: current, position: position, cache: cache)
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
                let (token, logProbability) = Self.choose(
                    logits, row: b, vocabulary: vocabulary, options: options, scratch: &scratch, generator: &generator)
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
    func prefill(prompts: [[Int]], cache: KeyValueCache) -> [Float] {
        let batch = prompts.count, time = prompts[0].count, c = config.modelWidth
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
            trunk.forward(tokens: distinct.flatMap { $0 }, batch: unique, time: time) { _, qkv in
                projections.append(qkv.data)
            }.logits.data
        }
        for layer in 0..<config.layers {
            projections[layer].withUnsafeBufferPointer { qkvBuffer in
                let qkv = qkvBuffer.baseAddress!
                for b in 0..<batch {
                    for t in 0..<time {
                        cache.store(layer: layer, row: b, position: t, projection: qkv + (source[b] * time + t) * 3 * c)
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

    /// Picks a token from row `row` of a (B, V) logits array (temperature, then top-k, then
    /// `Categorical.draw`); returns it with its log-probability under the sampling distribution.
    /// `scratch` holds the scaled logits and the weights, so no row is copied to a new array.
    static func choose(
        _ logits: [Float], row: Int, vocabulary: Int, options: SamplingOptions, scratch: inout SamplingScratch,
        generator: inout SeededGenerator
    ) -> (Int, Float) {
        let base = row * vocabulary
        // x · (1/T), as `nextTokenLogProbabilities` scales the logits on the tape.
        let inverseTemperature = options.greedy ? 1 : 1 / options.temperature
        for v in 0..<vocabulary { scratch.logits[v] = logits[base + v] * inverseTemperature }
        let scaledLogits = scratch.logits  // shares the buffer (no copy): `draw` writes only the weights
        return scaledLogits.withUnsafeBufferPointer { scaled in
            Categorical.draw(
                logits: scaled.baseAddress!, count: vocabulary, greedy: options.greedy, topK: options.topK,
                topP: options.topP,
                weights: &scratch.weights, generator: &generator)
        }
    }
}

/// The sampler's per-row working memory, allocated once per `sample` call: the temperature-scaled
/// logits of a row and the weights `Categorical.draw` draws from (V floats each).
struct SamplingScratch {
    var logits: [Float]
    var weights: [Float]
    init(vocabulary: Int) {
        logits = [Float](repeating: 0, count: vocabulary)
        weights = logits
    }
}
