// Seeded random numbers for every draw PolicyLab makes.
//
// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018):
// xoshiro256** for the stream, SplitMix64 to expand a 64-bit seed into its 256-bit state.
// Every component that draws (environment resets, sampling, initialisation, minibatch shuffles)
// takes a `SeededGenerator` owned by its run, so the same seed gives the same metrics.

/// SplitMix64: a tiny generator used to seed xoshiro and to derive child seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256**: the generator every run owns. Value type: copying it forks the stream.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        state = (expander.next(), expander.next(), expander.next(), expander.next())
    }

    /// A generator that starts from the given 256-bit state (not all zero), to check the stream
    /// against published reference outputs for a known state.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** cannot start from the all-zero state")
        self.state = state
    }

    @inline(__always)
    private static func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotateLeft(state.3, 45)
        return result
    }

    /// A new, independent generator for a child component (e.g. environment `i` of a vector env),
    /// derived from this stream so that the parent's seed fixes the child's too.
    public mutating func split() -> SeededGenerator {
        SeededGenerator(seed: next())
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUniformFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func nextUniform(in low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUniform()
    }

    /// Standard normal N(0, 1) by the Box–Muller transform (one draw per call; no cached pair,
    /// so the stream position depends only on the number of calls).
    public mutating func nextNormal() -> Double {
        // 1 - u keeps the logarithm's argument in (0, 1].
        let u1 = 1.0 - nextUniform()
        let u2 = nextUniform()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// Uniform integer in 0..<upperBound (Lemire's nearly-divisionless method via the standard library).
    @inline(__always)
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt(below:) needs a positive bound, got \(upperBound)")
        return Int.random(in: 0..<upperBound, using: &self)
    }

    /// Samples an index from unnormalised non-negative weights (e.g. probabilities).
    /// Complexity O(n). Falls back to the last index with positive weight if rounding leaves a remainder.
    /// Takes an array, not any collection: a generic version is not specialised across modules, and
    /// samplers call this once per generated token (4 % of a GRPO step went to the generic walk).
    public mutating func nextCategorical(weights: [Float]) -> Int {
        weights.withUnsafeBufferPointer { w in
            var total: Float = 0
            for x in w { total += x }
            precondition(total > 0 && total.isFinite,
                         "nextCategorical needs positive finite total weight, got \(total)")
            let target = nextUniformFloat() * total
            var running: Float = 0
            var lastPositive = 0
            for index in 0..<w.count {
                if w[index] > 0 { lastPositive = index }
                running += w[index]
                if target < running { return index }
            }
            return lastPositive
        }
    }

    /// Fisher–Yates shuffle of `0..<count`, drawn from this generator.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        if count < 2 { return indices }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            indices.swapAt(i, j)
        }
        return indices
    }
}

/// A generator's state as its four 64-bit words, so that a checkpoint can hold it and a resumed run
/// continues the very same stream (`train … --resume`).
extension SeededGenerator: Codable {
    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let words = try (0..<4).map { _ in try container.decode(UInt64.self) }
        guard words != [0, 0, 0, 0] else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "xoshiro256** cannot have the all-zero state"))
        }
        self.init(state: (words[0], words[1], words[2], words[3]))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        for word in [state.0, state.1, state.2, state.3] { try container.encode(word) }
    }
}
