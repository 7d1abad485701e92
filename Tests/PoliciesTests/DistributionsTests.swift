import Foundation
import Testing
import Autograd
import Policies
import Randomness

/// `Categorical.draw` (the samplers' side, no tape) against the tape's log-probabilities, and its mode
/// and top-k cases.
@Suite struct DistributionsTests {
    static let logits: [Float] = [2.0, -1.0, 0.5, 3.0, 0.5, 3.0, -4.0]

    /// A draw's log-probability is the tape's log-softmax of the same logits, to the bit.
    @Test func drawLogProbabilityIsTheTapesLogSoftmax() {
        let k = Self.logits.count
        let tape = Categorical.logProbabilities(logits: Tensor(shape: [1, k], data: Self.logits)).data
        var generator = SeededGenerator(seed: 7)
        var weights = [Float](repeating: 0, count: k)
        var seen = Set<Int>()
        for _ in 0..<500 {
            let (outcome, logProbability) = Self.logits.withUnsafeBufferPointer {
                Categorical.draw(logits: $0.baseAddress!, count: k, weights: &weights, generator: &generator)
            }
            #expect(logProbability == tape[outcome])
            seen.insert(outcome)
        }
        #expect(seen.isSuperset(of: [0, 3, 5]), "the likely outcomes are drawn")
    }

    /// The mode is the first largest logit, with the tape's log-probability.
    @Test func greedyTakesTheFirstLargestLogit() {
        let k = Self.logits.count
        let tape = Categorical.logProbabilities(logits: Tensor(shape: [1, k], data: Self.logits)).data
        var generator = SeededGenerator(seed: 8)
        var weights = [Float](repeating: 0, count: k)
        let (outcome, logProbability) = Self.logits.withUnsafeBufferPointer {
            Categorical.draw(logits: $0.baseAddress!, count: k, greedy: true, weights: &weights, generator: &generator)
        }
        #expect(outcome == 3)
        #expect(logProbability == tape[3])
    }

    /// Top-k: only the k largest logits are drawn, and their log-probabilities are renormalised over them.
    @Test func topKDrawsOnlyTheKeptOutcomesWithRenormalisedLogProbabilities() {
        let k = Self.logits.count
        var generator = SeededGenerator(seed: 9)
        var weights = [Float](repeating: 0, count: k)
        // The three largest: 3.0 (twice) and 2.0.
        let kept: Set = [0, 3, 5]
        let logZ = Foundation.log(kept.map { Foundation.exp(Double(Self.logits[$0])) }.reduce(0, +))
        var counts = [Int](repeating: 0, count: k)
        for _ in 0..<2000 {
            let (outcome, logProbability) = Self.logits.withUnsafeBufferPointer {
                Categorical.draw(logits: $0.baseAddress!, count: k, topK: 3, weights: &weights, generator: &generator)
            }
            counts[outcome] += 1
            #expect(abs(Double(logProbability) - (Double(Self.logits[outcome]) - logZ)) <= 1e-6)
        }
        #expect(counts.indices.filter { counts[$0] > 0 } == kept.sorted(), "\(counts)")
        #expect(weights.indices.filter { !kept.contains($0) }.allSatisfy { weights[$0] == 0 })
    }

    /// Top-p (nucleus): probabilities 0.5, 0.3, 0.15, 0.05 keep {0, 1} at p = 0.7 (the mass before the third,
    /// 0.8, has reached p), only {0} at p = 0.5 (as Hugging Face's TopPLogitsWarper), every outcome at p = 1;
    /// log-probabilities are renormalised over the kept ones.
    @Test func topPKeepsTheSmallestMostLikelySetThatReachesP() {
        let probabilities: [Double] = [0.15, 0.5, 0.05, 0.3]
        let logits = probabilities.map { Float(Foundation.log($0)) }
        for (p, kept) in [(Float(0.7), [1, 3]), (0.5, [1]), (1, [0, 1, 2, 3])] {
            var generator = SeededGenerator(seed: 11)
            var weights = [Float](repeating: 0, count: 4)
            var counts = [Int](repeating: 0, count: 4)
            let mass = kept.map { probabilities[$0] }.reduce(0, +)
            for _ in 0..<2000 {
                let (outcome, logProbability) = logits.withUnsafeBufferPointer {
                    Categorical.draw(
                        logits: $0.baseAddress!, count: 4, topP: p, weights: &weights, generator: &generator)
                }
                counts[outcome] += 1
                let expected = Foundation.log(probabilities[outcome] / mass)
                #expect(abs(Double(logProbability) - expected) <= 1e-5, "p \(p) outcome \(outcome)")
            }
            #expect(counts.indices.filter { counts[$0] > 0 } == kept, "p \(p): \(counts)")
        }
    }
}
