// Shared pieces of the objectives: the configuration error type, stable log-sigmoid, and masked
// statistics. Every objective in this module is a pure function of Double arrays: no randomness,
// no optimiser, no I/O. Losses come with their analytic gradients with respect to the
// differentiable inputs; trainers feed those back into the autograd tape with
// `Tensor.backward(gradient:)`.
//
// Shape legend: B rows (sequences, pairs or samples), T tokens per row, G group size,
// N samples in a minibatch. Arrays are flat and row-major: x[i·T + t].

import Foundation

/// An impossible objective setting, reported before any work starts.
public struct ObjectiveConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ problem: String, fix: String) { description = "\(problem) — \(fix)" }
}

/// log σ(x), stable for large |x|: −softplus(−x).
@inline(__always)
public func logSigmoid(_ x: Double) -> Double {
    x >= 0 ? -Foundation.log1p(Foundation.exp(-x)) : x - Foundation.log1p(Foundation.exp(x))
}

/// σ(x) = 1 / (1 + e^−x), stable for large |x|.
@inline(__always)
public func sigmoid(_ x: Double) -> Double {
    x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
}

/// Arithmetic mean (0 for an empty array).
public func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

/// Unbiased standard deviation (divides by n − 1), as `torch.std`; NaN for n < 2 like PyTorch.
public func unbiasedStandardDeviation(_ x: [Double]) -> Double {
    guard x.count > 1 else { return .nan }
    let m = mean(x)
    return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
}

/// Population variance (divides by n), as `numpy.var`.
public func populationVariance(_ x: [Double]) -> Double {
    guard !x.isEmpty else { return 0 }
    let m = mean(x)
    return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)
}

/// Σ x·m / Σ m (0 when the mask is empty).
public func maskedMean(_ x: [Double], mask: [Double]) -> Double {
    precondition(x.count == mask.count, "maskedMean: \(x.count) values, \(mask.count) mask entries")
    var total = 0.0, count = 0.0
    for i in 0..<x.count { total += x[i] * mask[i]; count += mask[i] }
    return count > 0 ? total / count : 0
}

/// Objective output: the scalar loss and the statistics trainers log (TRL / CleanRL names).
public struct ObjectiveStatistics: Sendable {
    public var values: [String: Double] = [:]
    public init() {}
    public subscript(_ name: String) -> Double? {
        get { values[name] }
        set { values[name] = newValue }
    }
}
