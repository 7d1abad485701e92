import Autograd
import Foundation
import NN
import Randomness

/// The token-level policy: the GPT trunk (`CausalTransformer`) plus a scalar value head on the final
/// hidden state (used by PPO on tokens). Parameter names follow the reference fixture
/// (`value_head.weight` [1, C], `value_head.bias` [1]).
public final class TransformerPolicy: Module {
    public let trunk: CausalTransformer
    public let valueHead: Linear
    public var config: TransformerConfig { trunk.config }

    public init(config: TransformerConfig, generator: inout SeededGenerator) {
        trunk = CausalTransformer(config: config, generator: &generator)
        valueHead = Linear(config.modelWidth, 1, standardDeviation: 0.02, generator: &generator)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        trunk.namedParameters + prefixed("value_head", valueHead.namedParameters)
    }

    /// Token ids (B × T, row-major) → logits (B, T, V) and values (B, T).
    public func forward(tokens: [Int], batch: Int, time: Int) -> (logits: Tensor, values: Tensor) {
        let (logits, hidden) = trunk.forward(tokens: tokens, batch: batch, time: time)
        return (logits, valueHead(hidden).reshaped([batch, time]))
    }

    /// Next-token log-probs (B, T−1) and values (B, T) from one forward pass.
    public func nextTokenLogProbabilitiesAndValues(
        tokens: [Int], batch: Int, time: Int, temperature: Float = 1
    ) -> (logProbabilities: Tensor, values: Tensor) {
        var entropies: [Float]?
        return nextTokenLogProbabilitiesAndValues(
            tokens: tokens, batch: batch, time: time, temperature: temperature, entropies: &entropies)
    }

    /// As above; with `entropies` non-nil, also fills it with the entropy of each position's next-token
    /// distribution (`nextTokenEntropies`).
    public func nextTokenLogProbabilitiesAndValues(
        tokens: [Int], batch: Int, time: Int, temperature: Float = 1, entropies: inout [Float]?
    ) -> (logProbabilities: Tensor, values: Tensor) {
        let (logits, values) = forward(tokens: tokens, batch: batch, time: time)
        return (
            Self.nextTokenLogProbabilities(
                logits: logits, tokens: tokens, batch: batch, time: time, temperature: temperature,
                entropies: &entropies), values
        )
    }

    static func nextTokenLogProbabilities(
        logits: Tensor, tokens: [Int], batch: Int, time: Int, temperature: Float
    ) -> Tensor {
        var entropies: [Float]?
        return nextTokenLogProbabilities(
            logits: logits, tokens: tokens, batch: batch, time: time, temperature: temperature, entropies: &entropies)
    }

    static func nextTokenLogProbabilities(
        logits: Tensor, tokens: [Int], batch: Int, time: Int, temperature: Float, entropies: inout [Float]?
    ) -> Tensor {
        let inputs = logits.slice(axis: 1, 0..<(time - 1))  // (B, T−1, V)
        let scaled = temperature == 1 ? inputs : inputs * (1 / temperature)
        var targets = [Int](repeating: 0, count: batch * (time - 1))
        for b in 0..<batch { for t in 0..<(time - 1) { targets[b * (time - 1) + t] = tokens[b * time + t + 1] } }
        return pick(scaled, targets: targets, entropies: &entropies)  // (B, T−1)
    }

    /// log-softmax of `scaled` (…, V) at `targets` (`Categorical`); with `entropies` non-nil, also each
    /// position's entropy H = −Σ_v π_v log π_v, read off the same log-softmax, off the tape: no extra
    /// forward pass, and the log-probs are the same bits either way.
    static func pick(_ scaled: Tensor, targets: [Int], entropies: inout [Float]?) -> Tensor {
        let logProbabilities = Categorical.logProbabilities(logits: scaled)
        if entropies != nil {
            entropies = Categorical.entropies(logProbabilities: logProbabilities.data, width: scaled.shape.last!)
        }
        return logProbabilities.pick(targets)
    }

    /// log π(x_{t+1} | x_≤t) for every position t < T−1 of each row: (B, T−1), on the tape.
    /// `temperature` divides the logits first (as samplers and TRL's PPO do).
    public func nextTokenLogProbabilities(tokens: [Int], batch: Int, time: Int, temperature: Float = 1) -> Tensor {
        var entropies: [Float]?
        return nextTokenLogProbabilities(
            tokens: tokens, batch: batch, time: time, temperature: temperature, entropies: &entropies)
    }

    /// As above; with `entropies` non-nil, also fills it with the entropy of each position's next-token
    /// distribution, (B·(T−1)), from the same forward pass.
    public func nextTokenLogProbabilities(
        tokens: [Int], batch: Int, time: Int, temperature: Float = 1, entropies: inout [Float]?
    ) -> Tensor {
        precondition(time >= 2, "next-token log-probs need sequences of at least 2 tokens")
        let (logits, _) = trunk.forward(tokens: tokens, batch: batch, time: time)
        return Self.nextTokenLogProbabilities(
            logits: logits, tokens: tokens, batch: batch, time: time, temperature: temperature,
            entropies: &entropies)
    }

    /// As `nextTokenLogProbabilities(tokens:batch:time:temperature:)` for rows that come in groups of
    /// `groupSize` consecutive rows beginning with the same prompt of `promptLengths[b]` tokens (GRPO's and
    /// RLOO's G completions of one prompt). The prompt runs through the trunk once per group instead of
    /// G times, and the last position, which predicts nothing, not at all (`TrunkLayout`): the same
    /// values and gradients as the plain forward, up to float rounding, from fewer rows. Rows that do not
    /// share their prompts this way take the plain forward.   (B, T−1)
    public func nextTokenLogProbabilities(
        tokens: [Int], batch: Int, time: Int, promptLengths: [Int], groupSize: Int, temperature: Float = 1
    ) -> Tensor {
        var entropies: [Float]?
        return nextTokenLogProbabilities(
            tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: groupSize,
            temperature: temperature, entropies: &entropies)
    }

    /// As above; with `entropies` non-nil, also fills it with the entropy of each position's next-token
    /// distribution, (B·(T−1)), from the same forward pass.
    public func nextTokenLogProbabilities(
        tokens: [Int], batch: Int, time: Int, promptLengths: [Int], groupSize: Int, temperature: Float = 1,
        entropies: inout [Float]?
    ) -> Tensor {
        let (scaled, targets) = nextTokenScaledLogits(
            tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: groupSize,
            temperature: temperature)
        return Self.pick(scaled, targets: targets, entropies: &entropies).reshaped([batch, time - 1])  // (B, T−1)
    }

    /// As `nextTokenLogProbabilities(tokens:batch:time:promptLengths:groupSize:temperature:)`, plus the
    /// entropy H_t = −Σ_v π_v log π_v of each position's next-token distribution ON the tape, (B, T−1) each:
    /// GRPO's entropy bonus differentiates it. The log-probs are the same values.
    public func nextTokenLogProbabilitiesAndEntropies(
        tokens: [Int], batch: Int, time: Int, promptLengths: [Int], groupSize: Int, temperature: Float = 1
    ) -> (logProbabilities: Tensor, entropies: Tensor) {
        let (scaled, targets) = nextTokenScaledLogits(
            tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: groupSize,
            temperature: temperature)
        let logProbabilities = Categorical.logProbabilities(logits: scaled), width = scaled.shape.last!
        let entropies = Categorical.entropy(
            logProbabilities: logProbabilities.reshaped([logProbabilities.count / width, width]))
        return (logProbabilities.pick(targets).reshaped([batch, time - 1]), entropies.reshaped([batch, time - 1]))
    }

    /// The next-token logits divided by the temperature at every position t < T−1 of each row, (B·(T−1), V)
    /// through the shared-prefix layout or (B, T−1, V) through the plain forward, and each position's next
    /// token.
    private func nextTokenScaledLogits(
        tokens: [Int], batch: Int, time: Int, promptLengths: [Int], groupSize: Int, temperature: Float
    ) -> (scaled: Tensor, targets: [Int]) {
        precondition(time >= 2, "next-token log-probs need sequences of at least 2 tokens")
        guard trunk.supportsSharedPrefixes,
            let layout = Self.sharedPrefixLayout(
                tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: groupSize)
        else {
            let (logits, _) = trunk.forward(tokens: tokens, batch: batch, time: time)
            let inputs = logits.slice(axis: 1, 0..<(time - 1))  // (B, T−1, V)
            var targets = [Int](repeating: 0, count: batch * (time - 1))
            for b in 0..<batch { for t in 0..<(time - 1) { targets[b * (time - 1) + t] = tokens[b * time + t + 1] } }
            return (temperature == 1 ? inputs : inputs * (1 / temperature), targets)
        }
        var rowTokens = [Int](repeating: 0, count: layout.rows)
        var predictors = [Int](repeating: 0, count: batch * (time - 1)), targets = predictors
        for b in 0..<batch {
            let group = b / groupSize, member = b % groupSize
            for t in 0..<(time - 1) {
                let row = layout.row(group: group, member: member, position: t)
                rowTokens[row] = tokens[b * time + t]
                predictors[b * (time - 1) + t] = row
                targets[b * (time - 1) + t] = tokens[b * time + t + 1]
            }
        }
        let hidden = trunk.hidden(tokens: rowTokens, layout: layout)  // (N, C)
        let logits = trunk.logits(hidden.gatherRows(predictors))  // (B·(T−1), V)
        return (temperature == 1 ? logits : logits * (1 / temperature), targets)
    }

    /// The shared-prefix layout of `batch` rows of `time` tokens in groups of `groupSize` with equal
    /// prompts (P_i = the prompt length, S_i = T − 1 − P_i), or nil when the rows are not so grouped.
    static func sharedPrefixLayout(
        tokens: [Int], batch: Int, time: Int, promptLengths: [Int], groupSize: Int
    ) -> TrunkLayout? {
        guard groupSize > 1, batch > 0, batch % groupSize == 0, promptLengths.count == batch,
            tokens.count == batch * time
        else { return nil }
        var prefixes: [Int] = [], suffixes: [Int] = []
        for first in stride(from: 0, to: batch, by: groupSize) {
            let p = promptLengths[first]
            guard p >= 1, p <= time - 1 else { return nil }
            let prompt = tokens[(first * time)..<(first * time + p)]
            for b in (first + 1)..<(first + groupSize) {
                guard promptLengths[b] == p, tokens[(b * time)..<(b * time + p)].elementsEqual(prompt) else {
                    return nil
                }
            }
            prefixes.append(p)
            suffixes.append(time - 1 - p)
        }
        return TrunkLayout(members: groupSize, prefixLengths: prefixes, suffixLengths: suffixes)
    }

    /// An independent policy with the same config and weights (e.g. a frozen reference).
    public func copy() -> TransformerPolicy {
        var generator = SeededGenerator(seed: 0)
        let copy = TransformerPolicy(config: config, generator: &generator)
        for ((_, target), (_, source)) in zip(copy.namedParameters, namedParameters) { target.data = source.data }
        return copy
    }

    /// Weights as safetensors bytes with the config as metadata.
    public func encodedWeights() -> (configJSON: String, bytes: [UInt8]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
        return (json, SafeTensors.write(stateDictionary(), metadata: ["config": json]))
    }

    /// A policy rebuilt from `encodedWeights()` bytes.
    public static func decode(configJSON: String, weights: [UInt8]) throws -> TransformerPolicy {
        guard let config = try? JSONDecoder().decode(TransformerConfig.self, from: Data(configJSON.utf8)) else {
            throw ParameterLoadingError.missing(name: "config")
        }
        var generator = SeededGenerator(seed: 0)
        let policy = TransformerPolicy(config: config, generator: &generator)
        try policy.load(try SafeTensors.read(weights).tensors.mapValues { ($0.shape, $0.float32) })
        return policy
    }
}
