import Autograd
import Randomness

/// Weight initialisers. Every draw comes from the caller's seeded generator.
public enum Initialization {
    /// N(0, std²) entries (GPT-2 / nanoGPT use std 0.02).
    public static func normal(_ shape: [Int], standardDeviation: Float, generator: inout SeededGenerator) -> [Float] {
        (0..<shape.reduce(1, *)).map { _ in Float(generator.nextNormal()) * standardDeviation }
    }

    /// A (semi-)orthogonal [rows, columns] matrix scaled by `gain` (Saxe et al. 2014), as PyTorch's
    /// `nn.init.orthogonal_`: QR of a Gaussian matrix with the signs of R's diagonal folded into Q.
    /// CleanRL uses gain √2 for hidden layers, 0.01 for the policy head and 1 for the value head.
    public static func orthogonal(rows: Int, columns: Int, gain: Float, generator: inout SeededGenerator) -> [Float] {
        // Work on the tall orientation: n ≥ m, orthonormal columns; transpose back if needed.
        let transposed = rows < columns
        let n = transposed ? columns : rows, m = transposed ? rows : columns
        var a = (0..<(n * m)).map { _ in generator.nextNormal() }  // [n, m], column j = a[i*m + j]
        // Modified Gram–Schmidt on the columns, in Double for stability.
        for j in 0..<m {
            for p in 0..<j {
                var dotProduct = 0.0
                for i in 0..<n { dotProduct += a[i * m + p] * a[i * m + j] }
                for i in 0..<n { a[i * m + j] -= dotProduct * a[i * m + p] }
            }
            var norm = 0.0
            for i in 0..<n { norm += a[i * m + j] * a[i * m + j] }
            norm = norm.squareRoot()
            for i in 0..<n { a[i * m + j] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * columns)
        for i in 0..<n {
            for j in 0..<m {
                let value = Float(a[i * m + j]) * gain
                if transposed { out[j * columns + i] = value } else { out[i * columns + j] = value }
            }
        }
        return out
    }
}
