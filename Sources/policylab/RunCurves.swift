import Foundation
import Store

/// The curves `inspect` and `runs show` draw as sparklines, so that a collapse (entropy falling to 0, the
/// reward spread vanishing, completions growing to the limit) is visible from the terminal.
struct RunCurves: Encodable {
    /// The metrics drawn, in this order, when the run logged them.
    static let metricNames = [
        "reward", "entropy", "frac_reward_zero_std", "completions/mean_length", "completions/clipped_ratio", "loss",
        "eval/exact_match",
    ]

    struct Series: Encodable {
        let metric: String
        let steps: [Int]
        let values: [Double]
    }

    let series: [Series]

    init(store: Store, runID: Int64) throws {
        series = try Self.metricNames.compactMap { name in
            let points = try store.metrics(runID: runID, name: name)
            return points.isEmpty ? nil : Series(metric: name, steps: points.map(\.step), values: points.map(\.value))
        }
    }

    /// One line per metric: name, sparkline over steps, first → last value, and the range.
    func lines(width: Int = 40) -> [String] {
        let nameWidth = series.map(\.metric.count).max() ?? 0
        return series.map { curve in
            let points = zip(curve.steps, curve.values).map { (x: Double($0), y: $1) }
            let low = curve.values.min() ?? 0, high = curve.values.max() ?? 0
            let sparkline = Sparkline.render(points, width: width, low: low, high: high)
            return String(
                format: "%@  %@  %.4g → %.4g  (min %.4g, max %.4g, steps %d–%d)",
                curve.metric.padding(toLength: nameWidth, withPad: " ", startingAt: 0), sparkline,
                curve.values.first ?? .nan, curve.values.last ?? .nan, low, high, curve.steps.first ?? 0,
                curve.steps.last ?? 0)
        }
    }
}
