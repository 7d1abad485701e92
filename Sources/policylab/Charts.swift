import Foundation

/// A curve: (x, y) points in x order, with an optional shaded band (a confidence interval) around it.
struct Curve {
    var label: String
    var points: [(x: Double, y: Double)]
    var band: [(x: Double, lower: Double, upper: Double)] = []
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

/// A line chart as a standalone SVG document: axes with ticks at round values, gridlines, one coloured line
/// (and shaded band, when given) per curve, and a legend beside the plot that the canvas widens to hold.
enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    /// A generous width of one character of the 11 px legend font, so that a legend sized from it never
    /// overflows (Helvetica's widest digits and lower-case letters are about 6.1 px at 11 px).
    static let legendCharacterWidth = 7.0

    /// Ticks covering [low, high] spaced by a round step (1, 2 or 5 × 10ⁿ), about `count` of them; the axis
    /// runs from the first tick to the last, so both ends are labelled.
    static func ticks(low: Double, high: Double, count: Int = 5) -> (step: Double, values: [Double]) {
        var low = low, high = high
        if !(high - low > 1e-12) {
            low -= 0.5
            high += 0.5
        }
        let rough = (high - low) / Double(max(1, count))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) } ?? 10 * magnitude
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        return (step, stride(from: first, through: last, by: 1).map { $0 * step })
    }

    /// A tick label with as many decimals as the step needs (0.2 → "0.6", not "0.6000000000000001").
    static func tickLabel(_ value: Double, step: Double) -> String {
        let decimals = max(0, Int(-(log10(step)).rounded(.down)))
        return String(format: "%.\(decimals)f", abs(value) < step * 1e-9 ? 0 : value)
    }

    static func render(
        title: String, xLabel: String, yLabel: String, curves: [Curve], width: Double = 760, height: Double = 420
    ) -> String {
        let left = 70.0, top = 50.0, bottom = 60.0, gap = 16.0
        let labels = curves.map { String($0.label.prefix(48)) }
        let legendWidth = 44 + legendCharacterWidth * Double(labels.map(\.count).max() ?? 0) + 12
        let legendHeight = 12 + 20 * Double(curves.count)
        let plotWidth = max(320, width - left - gap - legendWidth - 12)
        let canvasWidth = left + plotWidth + gap + legendWidth + 12
        let canvasHeight = max(height, top + legendHeight + 12)
        let plotHeight = canvasHeight - top - bottom
        let xs = curves.flatMap { $0.points.map(\.x) }
        let ys = curves.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.lower, $0.upper] } }
        let xTicks = ticks(low: xs.min() ?? 0, high: xs.max() ?? 1)
        let yTicks = ticks(low: ys.min() ?? 0, high: ys.max() ?? 1)
        let xMin = xTicks.values.first ?? 0, xMax = xTicks.values.last ?? 1
        let yMin = yTicks.values.first ?? 0, yMax = yTicks.values.last ?? 1
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(canvasWidth))" height="\(Int(canvasHeight))" \
            viewBox="0 0 \(Int(canvasWidth)) \(Int(canvasHeight))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="28" font-size="15" font-weight="bold">\(escape(title))</text>

            """
        for y in yTicks.values {
            svg += "<line x1=\"\(number(left))\" y1=\"\(number(py(y)))\" x2=\"\(number(left + plotWidth))\" "
                + "y2=\"\(number(py(y)))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text class=\"tick-y\" x=\"\(number(left - 8))\" y=\"\(number(py(y) + 4))\" font-size=\"11\" "
                + "text-anchor=\"end\">\(tickLabel(y, step: yTicks.step))</text>\n"
        }
        for x in xTicks.values {
            svg += "<text class=\"tick-x\" x=\"\(number(px(x)))\" y=\"\(number(top + plotHeight + 18))\" "
                + "font-size=\"11\" text-anchor=\"middle\">\(tickLabel(x, step: xTicks.step))</text>\n"
        }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\" "
            + "fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(canvasHeight - 14))\" font-size=\"12\" "
            + "text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text x=\"18\" y=\"\(number(top + plotHeight / 2))\" font-size=\"12\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 18 \(number(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        for (index, curve) in curves.enumerated() where !curve.band.isEmpty {
            let colour = palette[index % palette.count]
            let outline = curve.band.map { "\(number(px($0.x))),\(number(py($0.upper)))" }
                + curve.band.reversed().map { "\(number(px($0.x))),\(number(py($0.lower)))" }
            svg += "<polygon class=\"band\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\" "
                + "points=\"\(outline.joined(separator: " "))\"/>\n"
        }
        for (index, curve) in curves.enumerated() {
            let colour = palette[index % palette.count]
            let path = curve.points.map { "\(number(px($0.x))),\(number(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
        }
        let legendX = left + plotWidth + gap
        svg += "<rect class=\"legend\" x=\"\(number(legendX))\" y=\"\(number(top))\" width=\"\(number(legendWidth))\" "
            + "height=\"\(number(legendHeight))\" fill=\"white\" stroke=\"#ccc\"/>\n"
        for (index, label) in labels.enumerated() {
            let colour = palette[index % palette.count]
            let y = top + 16 + Double(index) * 20
            svg += "<line x1=\"\(number(legendX + 8))\" y1=\"\(number(y))\" x2=\"\(number(legendX + 32))\" "
                + "y2=\"\(number(y))\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(number(legendX + 40))\" y=\"\(number(y + 4))\" font-size=\"11\">"
                + "\(escape(label))</text>\n"
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
