import Foundation

/// A curve: (x, y) points in x order.
struct Curve {
    var label: String
    var points: [(x: Double, y: Double)]
}

/// Unicode block sparklines for the terminal.
enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// `width` characters: y averaged in equal-x buckets, scaled to [low, high].
    static func render(_ points: [(x: Double, y: Double)], width: Int = 40, low: Double, high: Double) -> String {
        guard let first = points.first?.x, let last = points.last?.x, high > low else {
            return String(repeating: "▁", count: min(width, points.count))
        }
        var sums = [Double](repeating: 0, count: width), counts = [Int](repeating: 0, count: width)
        for point in points {
            let bucket = last > first ? min(width - 1, Int((point.x - first) / (last - first) * Double(width))) : 0
            sums[bucket] += point.y
            counts[bucket] += 1
        }
        var out = ""
        var previous: Double?
        for b in 0..<width {
            let value = counts[b] > 0 ? sums[b] / Double(counts[b]) : previous
            previous = value
            guard let value else { out.append(" "); continue }
            let level = Int(((value - low) / (high - low) * 7).rounded())
            out.append(blocks[max(0, min(7, level))])
        }
        return out
    }
}

/// A line chart as a standalone SVG document: axes with ticks, gridlines, one coloured line per curve and a legend.
enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    static func render(
        title: String, xLabel: String, yLabel: String, curves: [Curve], width: Double = 760, height: Double = 420
    ) -> String {
        let left = 70.0, right = 190.0, top = 50.0, bottom = 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xs = curves.flatMap { $0.points.map(\.x) }, ys = curves.flatMap { $0.points.map(\.y) }
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, xMin + 1e-9)
        var yMin = ys.min() ?? 0, yMax = ys.max() ?? 1
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let pad = (yMax - yMin) * 0.05
        yMin -= pad; yMax += pad
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        func format(_ value: Double) -> String {
            abs(value) >= 1000 ? String(format: "%.0f", value) : String(format: "%.3g", value)
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="28" font-size="16" font-weight="bold">\(escape(title))</text>

            """
        for i in 0...5 {
            let y = yMin + (yMax - yMin) * Double(i) / 5, x = xMin + (xMax - xMin) * Double(i) / 5
            svg += "<line x1=\"\(left)\" y1=\"\(py(y))\" x2=\"\(left + plotWidth)\" y2=\"\(py(y))\" "
                + "stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(left - 8)\" y=\"\(py(y) + 4)\" font-size=\"11\" text-anchor=\"end\">"
                + "\(format(y))</text>\n"
            svg += "<text x=\"\(px(x))\" y=\"\(top + plotHeight + 18)\" font-size=\"11\" text-anchor=\"middle\">"
                + "\(format(x))</text>\n"
        }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" "
            + "stroke=\"#333\"/>\n"
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 14)\" font-size=\"12\" text-anchor=\"middle\">"
            + "\(escape(xLabel))</text>\n"
        svg += "<text x=\"18\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 18 \(top + plotHeight / 2))\">\(escape(yLabel))</text>\n"
        for (index, curve) in curves.enumerated() {
            let colour = palette[index % palette.count]
            let path = curve.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            let legendY = top + 14 + Double(index) * 20
            svg += "<line x1=\"\(left + plotWidth + 14)\" y1=\"\(legendY)\" x2=\"\(left + plotWidth + 34)\" "
                + "y2=\"\(legendY)\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(left + plotWidth + 40)\" y=\"\(legendY + 4)\" font-size=\"11\">"
                + "\(escape(String(curve.label.prefix(24))))</text>\n"
        }
        return svg + "</svg>\n"
    }
}

/// Moving average over a window of points, to make noisy per-step curves readable.
func smoothed(_ points: [(x: Double, y: Double)], window: Int) -> [(x: Double, y: Double)] {
    guard window > 1, points.count > window else { return points }
    var out: [(x: Double, y: Double)] = []
    var sum = 0.0
    for (index, point) in points.enumerated() {
        sum += point.y
        if index >= window { sum -= points[index - window].y }
        out.append((point.x, sum / Double(min(index + 1, window))))
    }
    return out
}
