import Testing

/// Checks every value of a PolicyLab output within rtol·|ref| + atol of the fixture's value.
/// Float32 metrics of the reference use rtol 2e-7.
public struct FixtureComparison {
    public let context: String
    public private(set) var checked = 0

    public init(context: String) { self.context = context }

    public mutating func expect(
        _ name: String, _ got: [Double], _ reference: JSON?, relative: Double = 1e-9, absolute: Double = 1e-12,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let reference else {
            Issue.record("\(context): fixture has no output '\(name)'", sourceLocation: sourceLocation)
            return
        }
        let want = reference.doubles
        guard got.count == want.count else {
            Issue.record("\(context) \(name): \(got.count) values vs \(want.count) in the fixture",
                         sourceLocation: sourceLocation)
            return
        }
        for (index, (g, w)) in zip(got, want).enumerated() where !(abs(g - w) <= relative * abs(w) + absolute) {
            Issue.record("\(context) \(name)[\(index)]: \(g) vs reference \(w)", sourceLocation: sourceLocation)
            return
        }
        checked += 1
    }

    public mutating func expect(
        _ name: String, _ got: Double, _ reference: JSON?, relative: Double = 1e-9,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expect(name, [got], reference, relative: relative, sourceLocation: sourceLocation)
    }
}

/// Fails on any output key that the test neither compared nor listed as deliberately not compared,
/// so no listed output goes unchecked by accident.
public func expectAllChecked(
    _ outputs: JSON?, checked: Set<String>, notCompared: Set<String> = [], context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let unchecked = Set(outputs?.keys ?? []).subtracting(checked).subtracting(notCompared)
    #expect(unchecked.isEmpty, "\(context): outputs not checked: \(unchecked.sorted())", sourceLocation: sourceLocation)
}
