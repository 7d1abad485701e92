import Foundation

/// The safetensors file format (Hugging Face): an 8-byte little-endian header length N, N bytes of
/// JSON `{"name":{"dtype":"F32","shape":[…],"data_offsets":[begin,end]}, "__metadata__":{…}}`, then the
/// raw little-endian row-major data, offsets relative to the byte after the header.
///
/// The writer follows the reference library byte for byte: entries sorted by name, keys in the order
/// dtype, shape, data_offsets, no white space, data stored in entry order, header padded with spaces
/// to a multiple of 8.
public enum SafeTensors {
    public enum DataType: String, Sendable {
        case f32 = "F32"
        case f64 = "F64"
        var size: Int { self == .f32 ? 4 : 8 }
    }

    /// One tensor read from a file (values widened to Double when stored as F64).
    public struct Entry: Sendable {
        public var dataType: DataType
        public var shape: [Int]
        public var float32: [Float]
        public var float64: [Double]
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
        init(_ problem: String) {
            description = "not a valid safetensors file: \(problem) — check that the file is complete"
        }
    }

    /// Parses a whole file.
    public static func read(_ bytes: [UInt8]) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw FormatError("shorter than its 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw FormatError("header length \(headerLength) exceeds the file")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(bytes[8..<dataStart])
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw FormatError("the header is not a JSON object")
        }
        var tensors: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let typeName = info["dtype"] as? String,
                let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                offsets.count == 2
            else { throw FormatError("entry '\(name)' lacks dtype, shape or data_offsets") }
            guard let type = DataType(rawValue: typeName) else {
                throw FormatError("entry '\(name)' has unsupported dtype \(typeName)")
            }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * type.size, offsets[0] >= 0, dataStart + offsets[1] <= bytes.count
            else {
                throw FormatError("entry '\(name)' has offsets \(offsets) that do not fit shape \(shape)")
            }
            var entry = Entry(dataType: type, shape: shape, float32: [], float64: [])
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + offsets[0]
                switch type {
                case .f32:
                    entry.float32 = (0..<count).map {
                        Float(
                            bitPattern: UInt32(
                                littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                    }
                    entry.float64 = entry.float32.map(Double.init)
                case .f64:
                    entry.float64 = (0..<count).map {
                        Double(
                            bitPattern: UInt64(
                                littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))
                    }
                    entry.float32 = entry.float64.map(Float.init)
                }
            }
            tensors[name] = entry
        }
        return (tensors, metadata)
    }

    /// Writes Float32 tensors (and string metadata) in the reference library's exact layout.
    public static func write(
        _ tensors: [String: (shape: [Int], values: [Float])], metadata: [String: String] = [:]
    ) -> [UInt8] {
        let names = tensors.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            precondition(
                tensor.values.count == tensor.shape.reduce(1, *),
                "tensor \(name) has \(tensor.values.count) values for shape \(tensor.shape)")
            let size = tensor.values.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(offset + size)]}"
            )
            offset += size
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8((length >> (8 * UInt64(i))) & 0xFF)) }
        out += header
        for name in names {
            for v in tensors[name]!.values {
                let bits = v.bitPattern.littleEndian
                out.append(UInt8(bits & 0xFF)); out.append(UInt8((bits >> 8) & 0xFF))
                out.append(UInt8((bits >> 16) & 0xFF)); out.append(UInt8(bits >> 24))
            }
        }
        return out
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
