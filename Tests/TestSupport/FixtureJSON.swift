import Foundation

/// A JSON value decoded with `JSONDecoder`, which rounds decimal numbers correctly
/// (Linux's `JSONSerialization` can be one ulp off, too much for a 1e-9 comparison).
public indirect enum JSON: Decodable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? container.decode(Double.self) {
            self = .number(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSON].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public subscript(_ key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var keys: [String] {
        if case .object(let o) = self { return o.keys.sorted() }
        return []
    }

    /// All numbers, flattened row-major (booleans as 0/1).
    public var doubles: [Double] {
        switch self {
        case .number(let d): [d]
        case .bool(let b): [b ? 1 : 0]
        case .array(let a): a.flatMap(\.doubles)
        default: []
        }
    }

    /// All numbers as integers, flattened row-major (token ids, shapes).
    public var ints: [Int] { doubles.map { Int($0) } }

    public var double: Double? { if case .number(let d) = self { d } else { nil } }
    public var int: Int? { double.map { Int($0) } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSON] { if case .array(let a) = self { a } else { [] } }
    public var isNull: Bool { if case .null = self { true } else { false } }
    /// Rows × columns of a 2-D array.
    public var shape2: (Int, Int) { (array.count, array.first?.array.count ?? 0) }

    /// Decodes `Tests/<testTarget>/Fixtures/<name>`.
    public static func load(_ name: String, testTarget: String) throws -> JSON {
        try JSONDecoder().decode(JSON.self, from: Data(contentsOf: FixtureDirectory.url(of: testTarget, file: name)))
    }
}
