// The two ways PolicyLab's tests compare arrays of numbers: against another PolicyLab path (a fused
// kernel against its composite, the cache against the full forward) and against a reference fixture
// whose fields carry their own scale (`max_abs`).

/// max |a − b| / max(1e-3, max |b|): one scale for the whole array, so near-zero entries of a
/// gradient do not turn rounding noise into large relative errors.
public func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) values vs \(b.count)")
    let scale = max(1e-3, b.map { abs($0) }.max() ?? 0)
    return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / scale
}

/// max |a − b| / scale, with Float32 results against a Double reference.
public func relativeError(_ a: [Float], _ b: [Double], scale: Double) -> Double {
    precondition(a.count == b.count, "\(a.count) values vs \(b.count) reference values")
    return (zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0) / scale
}
