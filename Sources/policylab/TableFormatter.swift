import Foundation

/// Renders rows as an aligned plain-text table for human output.
struct TableFormatter {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) { self.headers = headers }

    mutating func append(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var out = [line(headers), line(widths.map { String(repeating: "─", count: $0) })]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}

/// JSON printing for `--json`: one object per call, keys sorted so output is stable.
enum JSONOutput {
    static func string<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func print<T: Encodable>(_ value: T) {
        Swift.print(string(value))
    }
}

/// Shortens text for one table cell.
func abbreviated(_ text: String, to length: Int = 40) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: "⏎")
    return flat.count <= length ? flat : String(flat.prefix(length - 1)) + "…"
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS` UTC.
func formattedTime(_ seconds: Double?) -> String {
    guard let seconds else { return "—" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}
