import Autograd
import Foundation
import Randomness

// The lab's one categorical and one diagonal-Gaussian distribution: the log-probability and entropy
// that training takes on the tape (`MLPActorCritic.evaluate`, `TransformerPolicy`'s next-token
// log-probabilities) and the draw with its log-probability that sampling takes off the tape
// (`MLPActorCritic.act`, the KV-cache sampler). Both sides run the same code on the same numbers, so
// PPO's first ratio exp(log π_new − log π_old) is exactly 1 when the logits agree.

/// A categorical distribution over k outcomes given by a row of logits x: π_j = softmax(x)_j, with
/// `RowSoftmax` (Autograd) as the one softmax.
public enum Categorical {
    /// log π(·) of every row of logits (…, k) → (…, k), on the tape: x_j − log Z.
    public static func logProbabilities(logits: Tensor) -> Tensor {
        logits.logSoftmax()
    }

    /// H(π) = −Σ_j π_j log π_j of each row of log-probabilities (N, k) → (N), on the tape.
    public static func entropy(logProbabilities: Tensor) -> Tensor {
        -(logProbabilities.exp() * logProbabilities).sum(axis: 1)
    }

    /// The same entropies off the tape, of rows of `width` log-probabilities (the token trainers' logged
    /// entropy): `entropy(logProbabilities:)` on a copy, so the same bits.
    public static func entropies(logProbabilities: [Float], width: Int) -> [Float] {
        Tensor.withoutGradients {
            let rows = Tensor(shape: [logProbabilities.count / width, width], data: logProbabilities)
            return entropy(logProbabilities: rows).data
        }
    }

    /// Draws an outcome from a row of k logits (or takes the mode, the first largest logit, when
    /// `greedy`), without the tape, and returns it with its log-probability x_outcome − log Z. With
    /// `topK` only the k largest logits keep their weight (top-k sampling; the others get exactly 0,
    /// and Z sums the kept ones). With `topP` (nucleus sampling, Holtzman et al. 2020, as Hugging Face's
    /// `TopPLogitsWarper`) only the most likely outcomes whose probabilities first reach a total of p keep
    /// theirs (at least one), after top-k. `weights` (k floats, reused between calls so no draw allocates)
    /// receives the unnormalised weights the generator draws from.
    public static func draw(
        logits: UnsafePointer<Float>, count k: Int, greedy: Bool = false, topK: Int? = nil, topP: Float? = nil,
        weights: inout [Float], generator: inout SeededGenerator
    ) -> (outcome: Int, logProbability: Float) {
        precondition(weights.count == k, "Categorical.draw needs \(k) weight slots, got \(weights.count)")
        let (maximum, exponentialsTotal) = weights.withUnsafeMutableBufferPointer {
            RowSoftmax.exponentials(logits, into: $0.baseAddress!, count: k)
        }
        var total = exponentialsTotal
        if let topK, topK < k {
            let threshold = UnsafeBufferPointer(start: logits, count: k).sorted(by: >)[max(0, topK - 1)]
            total = 0
            for j in 0..<k {
                if logits[j] < threshold { weights[j] = 0 }
                total += weights[j]
            }
        }
        if let topP, topP < 1 {
            // Most likely first (ties by index); keep the prefix whose mass before each kept outcome is < p.
            let order = (0..<k).sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
            var before: Float = 0
            var kept: Float = 0
            for j in order {
                if before < topP * total {
                    before += weights[j]
                    kept += weights[j]
                } else {
                    weights[j] = 0
                }
            }
            total = kept
        }
        var outcome = 0
        if greedy {
            for j in 1..<max(k, 1) where logits[j] > logits[outcome] { outcome = j }
        } else {
            outcome = generator.nextCategorical(weights: weights)
        }
        return (outcome, logits[outcome] - RowSoftmax.logNormalizer(maximum: maximum, total: total))
    }
}

/// A diagonal Gaussian N(μ, diag σ²) over d-dimensional actions, with σ = exp(log σ) by the tape's exp.
public enum DiagonalGaussian {
    /// ½ log 2π, the per-dimension constant of the log-density; ½ + ½ log 2π, the entropy's.
    static let halfLogTwoPi = Float(0.5 * Foundation.log(2 * Double.pi))
    static let entropyConstant = Float(0.5 + 0.5 * Foundation.log(2 * Double.pi))

    /// log N(a; μ, σ²) = Σ_j (−½ z_j² − log σ_j − ½ log 2π), z = (a − μ)/σ, on the tape.
    /// actions, means: (N, d); logStandardDeviations: (1, d) → (N).
    public static func logProbabilities(actions: Tensor, means: Tensor, logStandardDeviations: Tensor) -> Tensor {
        let z = (actions - means) / logStandardDeviations.exp()  // (N, d)
        return ((z.square() * -0.5 - logStandardDeviations) - halfLogTwoPi).sum(axis: 1)
    }

    /// H = Σ_j (log σ_j + ½ + ½ log 2π) for each of `rows` rows, on the tape. (1, d) → (rows)
    public static func entropy(logStandardDeviations: Tensor, rows: Int) -> Tensor {
        let d = logStandardDeviations.count
        let perDimension = logStandardDeviations + entropyConstant
        return (perDimension + Tensor(zeros: [rows, d])).sum(axis: 1)
    }

    /// Draws a = μ + σ·ε, ε ~ N(0, 1) per dimension (a = μ when `greedy`), without the tape, for the
    /// N rows of `means` (N, d); returns the actions (N, d) and their log-densities (N) by
    /// `logProbabilities`, the update's own computation.
    public static func draw(
        means: Tensor, logStandardDeviations: Tensor, greedy: Bool = false, generator: inout SeededGenerator
    ) -> (actions: [Float], logProbabilities: [Float]) {
        Tensor.withoutGradients {
            let standardDeviations = logStandardDeviations.exp().data
            let rows = means.shape[0], d = standardDeviations.count
            var actions = means.data
            if !greedy {
                for i in 0..<rows {
                    for j in 0..<d { actions[i * d + j] += standardDeviations[j] * Float(generator.nextNormal()) }
                }
            }
            let logProbabilities = Self.logProbabilities(
                actions: Tensor(shape: [rows, d], data: actions), means: means,
                logStandardDeviations: logStandardDeviations)
            return (actions, logProbabilities.data)
        }
    }
}
