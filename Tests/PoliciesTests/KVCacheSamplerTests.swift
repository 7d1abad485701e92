import Foundation
import Testing
@testable import Autograd
@testable import NN
@testable import Policies
import Randomness
import TestSupport

/// The sampler's prefill (all prompts of one length: one batched forward over the distinct prompts
/// fills the cache, the path every GRPO / RLOO / PPO step and evaluation on `sort` takes) and the
/// decode step's split of the rows over two threads, against the plain forward over whole sequences.
@Suite struct KVCacheSamplerTests {
    static let config = TransformerConfig(vocabularySize: 20, contextLength: 24, modelWidth: 32, layers: 2, heads: 4)

    /// A policy with non-trivial LayerNorm parameters and biases and logits large enough that sampling
    /// is far from uniform.
    static func policy(seed: UInt64) -> TransformerPolicy {
        var generator = SeededGenerator(seed: seed)
        let policy = TransformerPolicy(config: config, generator: &generator)
        for (name, tensor) in policy.namedParameters where name.hasSuffix("bias") || name.contains("ln") {
            tensor.data = tensor.data.map { $0 + 0.1 * (generator.nextUniformFloat() - 0.5) }
        }
        policy.trunk.head.weight.data = policy.trunk.head.weight.data.map { $0 * 40 }
        return policy
    }

    struct Case: CustomStringConvertible, Sendable {
        var rows: Int
        /// Rows per distinct prompt (a GRPO batch repeats each prompt G times).
        var repeats: Int
        var promptLength: Int
        var options: SamplingOptions
        var description: String {
            let topK = options.topK.map(String.init) ?? "-"
            return "B\(rows) G\(repeats) L\(promptLength) T\(options.temperature) top-k \(topK)"
                + (options.greedy ? " greedy" : "") + (options.stopToken.map { " stop \($0)" } ?? "")
        }
    }

    static let cases: [Case] = [
        Case(rows: 6, repeats: 3, promptLength: 5, options: SamplingOptions(maxNewTokens: 7)),
        Case(rows: 5, repeats: 1, promptLength: 8,
             options: SamplingOptions(temperature: 0.7, topK: 6, maxNewTokens: 9)),
        Case(rows: 4, repeats: 2, promptLength: 3, options: SamplingOptions(greedy: true, maxNewTokens: 6)),
        // A stop token ends rows at different steps; the context (24) cuts the last row short.
        Case(rows: 8, repeats: 4, promptLength: 16, options: SamplingOptions(maxNewTokens: 12, stopToken: 3)),
    ]

    /// Samples through the prefill and replays the same draws on logits from the plain forward over
    /// each whole prefix (no cache): the tokens must be the same, and the log-probabilities agree.
    @Test(arguments: cases)
    func prefillSamplesTheTokensAndLogProbabilitiesOfThePlainForward(testCase: Case) {
        let policy = Self.policy(seed: 31)
        var generator = SeededGenerator(seed: 32)
        let distinct = (0..<(testCase.rows / testCase.repeats)).map { _ in
            (0..<testCase.promptLength).map { _ in generator.nextInt(below: Self.config.vocabularySize) }
        }
        let prompts = distinct.flatMap { Array(repeating: $0, count: testCase.repeats) }
        #expect(prompts.count == testCase.rows && Set(prompts.map(\.count)).count == 1)
        let seed: UInt64 = 33
        var sampling = SeededGenerator(seed: seed)
        let completions = policy.sample(prompts: prompts, options: testCase.options, generator: &sampling)

        // Reference: at each step, every unfinished row draws from its logits at its last position, rows in order.
        var replay = SeededGenerator(seed: seed)
        let vocabulary = Self.config.vocabularySize, options = testCase.options
        var sequences = prompts, finished = [Bool](repeating: false, count: prompts.count)
        var tokens = [[Int]](repeating: [], count: prompts.count)
        var logProbabilities = [[Float]](repeating: [], count: prompts.count)
        let budget = min(options.maxNewTokens, Self.config.contextLength - testCase.promptLength)
        var scratch = SamplingScratch(vocabulary: vocabulary)
        for _ in 0..<budget {
            let time = sequences[0].count
            let logits = Tensor.withoutGradients {
                policy.forward(tokens: sequences.flatMap { $0 }, batch: sequences.count, time: time).logits.data
            }
            var last = [Float](repeating: 0, count: sequences.count * vocabulary)
            for b in sequences.indices {
                for v in 0..<vocabulary { last[b * vocabulary + v] = logits[(b * time + time - 1) * vocabulary + v] }
            }
            for b in sequences.indices {
                guard !finished[b] else {
                    sequences[b].append(options.stopToken ?? 0)
                    continue
                }
                let (token, logProbability) = TransformerPolicy.choose(
                    last, row: b, vocabulary: vocabulary, options: options, scratch: &scratch, generator: &replay)
                tokens[b].append(token)
                logProbabilities[b].append(logProbability)
                sequences[b].append(token)
                if token == options.stopToken { finished[b] = true }
            }
            if finished.allSatisfy({ $0 }) { break }
        }
        #expect(completions.map(\.tokens) == tokens, "\(testCase)")
        for b in prompts.indices where completions[b].tokens == tokens[b] {
            let difference = maxRelativeDifference(completions[b].logProbabilities, logProbabilities[b])
            #expect(difference <= 1e-4, "row \(b), \(testCase)")
        }
        if options.stopToken != nil {
            #expect(Set(tokens.map(\.count)).count > 1, "the stop token should end rows at different steps")
        }

        // At temperature 1 without top-k the sampler's log-probabilities are the policy's own next-token
        // log-probabilities of the sampled sequence (the training-time computation).
        if options.temperature == 1 && options.topK == nil && !options.greedy {
            for b in prompts.indices {
                let sequence = prompts[b] + completions[b].tokens
                let logp = Tensor.withoutGradients {
                    policy.nextTokenLogProbabilities(tokens: sequence, batch: 1, time: sequence.count).data
                }
                let generated = Array(logp.suffix(completions[b].tokens.count))
                let difference = maxRelativeDifference(completions[b].logProbabilities, generated)
                #expect(difference <= 1e-4, "row \(b), \(testCase)")
            }
        }
    }

    /// The decode step splits its rows over the two cores when there are two or more; every row of a
    /// 5-row cache (split 3 + 2) must give the logits and values of the plain forward at each position.
    @Test func decodeStepRowsSplitOverTwoThreadsMatchThePlainForward() {
        if ProcessInfo.processInfo.activeProcessorCount >= 2 {
            #expect(CPUKernels.split(count: 5) { _, _ in } == 2, "5 rows should run on two threads")
        }
        let policy = Self.policy(seed: 41)
        var generator = SeededGenerator(seed: 42)
        let rows = 5, time = 11, vocabulary = Self.config.vocabularySize
        let tokens = (0..<(rows * time)).map { _ in generator.nextInt(below: vocabulary) }
        let (logits, values) = Tensor.withoutGradients { policy.forward(tokens: tokens, batch: rows, time: time) }
        let cache = policy.emptyCache(batch: rows)
        for position in 0..<time {
            let stepTokens = (0..<rows).map { tokens[$0 * time + position] }
            let step = policy.decodeStep(tokens: stepTokens, position: position, cache: cache)
            var expectedLogits: [Float] = [], expectedValues: [Float] = []
            for b in 0..<rows {
                let row = b * time + position
                expectedLogits += logits.data[(row * vocabulary)..<((row + 1) * vocabulary)]
                expectedValues.append(values.data[row])
            }
            #expect(maxRelativeDifference(step.logits, expectedLogits) <= 1e-5, "logits at position \(position)")
            #expect(maxRelativeDifference(step.values, expectedValues) <= 1e-5, "values at position \(position)")
        }
    }
}
