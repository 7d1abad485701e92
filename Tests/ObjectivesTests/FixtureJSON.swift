import Foundation
import Testing

/// A JSON value decoded with `JSONDecoder`, which rounds decimal numbers correctly
/// (Linux's `JSONSerialization` can be one ulp off, too much for a 1e-9 comparison).
indirect enum JSON: Decodable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSON].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSON].self)) }
    }

    subscript(_ key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var keys: [String] {
        if case .object(let o) = self { return o.keys.sorted() }
        return []
    }

    /// All numbers, flattened row-major (booleans as 0/1).
    var doubles: [Double] {
        switch self {
        case .number(let d): [d]
        case .bool(let b): [b ? 1 : 0]
        case .array(let a): a.flatMap(\.doubles)
        default: []
        }
    }

    var double: Double? { if case .number(let d) = self { d } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [JSON] { if case .array(let a) = self { a } else { [] } }
    var isNull: Bool { if case .null = self { true } else { false } }
    /// Rows × columns of a 2-D array.
    var shape2: (Int, Int) { (array.count, array.first?.array.count ?? 0) }

    static func load(_ name: String) throws -> JSON {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try JSONDecoder().decode(JSON.self, from: Data(contentsOf: url))
    }
}

/// Checks every value within rtol·|ref| + atol. Float32 metrics of the reference use rtol 2e-7.
struct FixtureComparison {
    let context: String
    var checked = 0

    mutating func expect(_ name: String, _ got: [Double], _ reference: JSON?, relative: Double = 1e-9, absolute: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let reference else {
            Issue.record("\(context): fixture has no output '\(name)'", sourceLocation: sourceLocation)
            return
        }
        let want = reference.doubles
        guard got.count == want.count else {
            Issue.record("\(context) \(name): \(got.count) values vs \(want.count) in the fixture", sourceLocation: sourceLocation)
            return
        }
        for (index, (g, w)) in zip(got, want).enumerated() where !(abs(g - w) <= relative * abs(w) + absolute) {
            Issue.record("\(context) \(name)[\(index)]: \(g) vs reference \(w)", sourceLocation: sourceLocation)
            return
        }
        checked += 1
    }

    mutating func expect(_ name: String, _ got: Double, _ reference: JSON?, relative: Double = 1e-9, sourceLocation: SourceLocation = #_sourceLocation) {
        expect(name, [got], reference, relative: relative, sourceLocation: sourceLocation)
    }
}

/// Fails on any output key that the test did not compare, so no listed output goes unchecked.
func expectAllChecked(_ outputs: JSON?, checked: Set<String>, context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let unchecked = Set(outputs?.keys ?? []).subtracting(checked)
    #expect(unchecked.isEmpty, "\(context): outputs not checked: \(unchecked.sorted())", sourceLocation: sourceLocation)
}

/// log-softmax of one row of logits, in Double.
func logSoftmaxRow(_ logits: [Double]) -> [Double] {
    let m = logits.max() ?? 0
    let logZ = m + log(logits.reduce(0) { $0 + exp($1 - m) })
    return logits.map { $0 - logZ }
}
