import Testing
@testable import Autograd
@testable import NN
@testable import Policies
import Randomness
import TestSupport

/// Shared-prefix log-probs (a group's prompt run once for its G members, `TrunkLayout`) against the
/// plain forward of every full sequence: values and every parameter's gradient, with prompts of
/// different lengths per group, continuations that end early (padding), and one-token continuations.
@Suite struct SharedPrefixTests {
    struct Case: CustomStringConvertible, Sendable {
        var config: TransformerConfig
        var promptLengths: [Int]   // per group
        var groupSize: Int
        var time: Int
        var description: String {
            "C\(config.modelWidth) H\(config.heads) L\(config.layers) G\(groupSize) P\(promptLengths) T\(time)"
        }
    }

    static let cases: [Case] = [
        // TRL's size s and the sort task's shape: prompt 8 (<bos>, 6 digits, '='), 8 new tokens.
        Case(config: .tokenPolicySmall, promptLengths: [8, 8, 8], groupSize: 4, time: 16),
        // Prompts of different lengths, T across the 16-key chunk edge, head size 8, untied head.
        Case(config: TransformerConfig(vocabularySize: 20, contextLength: 40, modelWidth: 32, layers: 2, heads: 4),
             promptLengths: [3, 11, 17, 1, 6], groupSize: 3, time: 19),
        // Head size 32, three layers; a group whose continuation is one token (S = 0 rows).
        Case(config: TransformerConfig(vocabularySize: 16, contextLength: 24, modelWidth: 64, layers: 3, heads: 2,
                                       tiedEmbeddings: true),
             promptLengths: [9, 5], groupSize: 2, time: 10),
    ]

    @Test(arguments: cases)
    func sharedPrefixesMatchThePlainForward(testCase: Case) {
        var generator = SeededGenerator(seed: 21)
        let policy = TransformerPolicy(config: testCase.config, generator: &generator)
        for (name, tensor) in policy.namedParameters where name.hasSuffix("bias") || name.contains("ln") {
            tensor.data = tensor.data.map { $0 + 0.1 * (generator.nextUniformFloat() - 0.5) }
        }
        let g = testCase.groupSize, time = testCase.time, vocabulary = testCase.config.vocabularySize
        let batch = testCase.promptLengths.count * g
        var tokens = [Int](repeating: 0, count: batch * time), promptLengths: [Int] = []
        for (group, p) in testCase.promptLengths.enumerated() {
            let prompt = (0..<p).map { _ in generator.nextInt(below: vocabulary) }
            for m in 0..<g {
                let b = group * g + m
                promptLengths.append(p)
                // Some continuations stop early: the rest of the row is padding (token 0).
                let length = m == 1 ? max(1, (time - p) / 2) : time - p
                for t in 0..<time {
                    let continuation = t < p + length ? generator.nextInt(below: vocabulary) : 0
                    tokens[b * time + t] = t < p ? prompt[t] : continuation
                }
            }
        }
        // A loss that weighs every position, so every row's gradient is tested.
        let weights = (0..<(batch * (time - 1))).map { _ in generator.nextUniformFloat() - 0.5 }

        func run(shared: Bool, temperature: Float) -> (values: [Float], gradients: [[Float]]) {
            policy.zeroGradients()
            let logp = shared
                ? policy.nextTokenLogProbabilities(
                    tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: g,
                    temperature: temperature)
                : policy.nextTokenLogProbabilities(tokens: tokens, batch: batch, time: time, temperature: temperature)
            #expect(logp.shape == [batch, time - 1])
            (logp * Tensor(shape: [batch, time - 1], data: weights)).sum().backward()
            return (logp.data, policy.parameters.map { $0.grad ?? [Float](repeating: 0, count: $0.count) })
        }
        let layout = TransformerPolicy.sharedPrefixLayout(
            tokens: tokens, batch: batch, time: time, promptLengths: promptLengths, groupSize: g)
        #expect(layout != nil)
        for temperature: Float in [1, 0.7] {
            let plain = run(shared: false, temperature: temperature)
            let shared = run(shared: true, temperature: temperature)
            let difference = maxRelativeDifference(shared.values, plain.values)
            #expect(difference <= 1e-5, "log-probs, \(testCase), T \(temperature)")
            for ((name, _), (a, b)) in zip(policy.namedParameters, zip(shared.gradients, plain.gradients)) {
                #expect(maxRelativeDifference(a, b) <= 1e-4, "gradient of \(name), \(testCase), T \(temperature)")
            }
        }
    }

    @Test func rowsThatDoNotShareTheirPromptTakeThePlainForward() {
        let tokens = [1, 2, 3, 4, 1, 2, 5, 6, 1, 9, 3, 4, 1, 9, 3, 7]
        func layout(_ promptLengths: [Int], groupSize: Int) -> TrunkLayout? {
            TransformerPolicy.sharedPrefixLayout(
                tokens: tokens, batch: 4, time: 4, promptLengths: promptLengths, groupSize: groupSize)
        }
        // Same first two tokens in both groups: a layout.
        #expect(layout([2, 2, 2, 2], groupSize: 2) != nil)
        // Group 0's members differ at position 2.
        #expect(layout([3, 3, 3, 3], groupSize: 2) == nil)
        // Prompt lengths differ within a group, or the batch does not divide into groups, or no continuation.
        #expect(layout([2, 1, 2, 2], groupSize: 2) == nil)
        #expect(layout([2, 2, 2, 2], groupSize: 3) == nil)
        #expect(layout([4, 4, 4, 4], groupSize: 2) == nil)
        let trunkLayout = TrunkLayout(members: 2, prefixLengths: [2, 3], suffixLengths: [1, 0])
        #expect(trunkLayout.rows == 2 + 2 * 1 + 3)
        #expect(trunkLayout.row(group: 0, member: 1, position: 2) == 3)
        #expect(trunkLayout.row(group: 1, member: 1, position: 1) == 5)
    }

}
