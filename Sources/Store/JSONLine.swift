/// A minimal, strict parser for one JSONL line holding a flat JSON object
/// (string keys → string, number, boolean or null), the shape of TRL's standard datasets.
///
/// Hand-written rather than `JSONSerialization` for two reasons: it tells a string from a number from a
/// boolean without Foundation's bridging ambiguity, and it parses 100,000 rows well inside the import
/// budget. Nested arrays/objects (TRL's conversational format) are reported as unsupported.
enum JSONScalar: Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    var typeName: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

struct JSONLineError: Error, Equatable {
    let message: String
}

struct JSONLineParser {
    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses `line` (UTF-8 already validated) as one flat JSON object. Duplicate keys are an error.
    static func parseObject(_ line: some Collection<UInt8>) throws(JSONLineError) -> [String: JSONScalar] {
        var parser = JSONLineParser(Array(line))
        return try parser.object()
    }

    private mutating func fail(_ message: String) -> JSONLineError {
        JSONLineError(message: "\(message) at column \(position + 1)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONLineError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { throw fail("expected \(what)") }
        position += 1
    }

    private mutating func object() throws(JSONLineError) -> [String: JSONScalar] {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else {
            throw JSONLineError(message: "not a JSON object (each line must be one {...} object)")
        }
        position += 1
        var result: [String: JSONScalar] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let key = try string()
                try expect(UInt8(ascii: ":"), "':'")
                let value = try scalar(key: key)
                if result[key] != nil { throw JSONLineError(message: "duplicate key \"\(key)\"") }
                result[key] = value
                skipWhitespace()
                guard position < bytes.count else { throw fail("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; break }
                throw fail("expected ',' or '}'")
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected text after the object") }
        return result
    }

    private mutating func scalar(key: String) throws(JSONLineError) -> JSONScalar {
        skipWhitespace()
        guard position < bytes.count else { throw fail("missing value") }
        switch bytes[position] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            throw JSONLineError(message: "field \"\(key)\" holds a list or object; only TRL's standard (non-conversational) format is supported")
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: String) throws(JSONLineError) {
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count, Array(bytes[position..<position + utf8.count]) == utf8 else {
            throw fail("invalid literal")
        }
        position += utf8.count
    }

    private mutating func number() throws(JSONLineError) -> Double {
        let start = position
        while position < bytes.count {
            let b = bytes[position]
            let isNumberByte = (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
            if !isNumberByte { break }
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        // JSON numbers: optional minus, digits without a leading zero, optional fraction and exponent.
        guard !text.isEmpty, text.first != "+", text.first != ".", !text.hasPrefix("-."),
              let value = Double(text), value.isFinite
        else {
            position = start
            throw fail(text.isEmpty ? "expected a value" : "invalid number '\(text)'")
        }
        return value
    }

    private mutating func string() throws(JSONLineError) -> String {
        position += 1  // opening quote
        var scalars: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("unterminated string") }
            let b = bytes[position]
            position += 1
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw fail("control character inside a string") }
            if b != UInt8(ascii: "\\") { scalars.append(b); continue }
            guard position < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw fail("unpaired surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        return String(decoding: scalars, as: UTF8.self)
    }

    private mutating func hex4() throws(JSONLineError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            position += 1
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value * 16 + digit
        }
        return value
    }
}

/// Writes JSON strings and numbers so that parsing them back gives the same values (shortest round-trip doubles).
enum JSONLineWriter {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
