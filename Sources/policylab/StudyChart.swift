import Foundation
import Store
import Studies

/// The mean learning curve of each configuration over its seeds, with a 95 % bootstrap band, for
/// `study show NAME --svg FILE`.
///
/// Seeds log at different x (episodes end at different environment steps), so each seed's curve is put on a
/// common grid of `gridPoints` x values first: the mean of its points in each grid cell, carrying the last
/// value through empty cells. The band at a grid point is the percentile bootstrap interval of the mean
/// over the seeds that have logged by then.
enum StudyChart {
    enum Axis: String, CaseIterable {
        /// Samples seen: completions, pairs or environment steps.
        case samples
        /// Wall-clock seconds. Metrics carry no timestamps, so a point's time is its share of the run's samples
        /// times the run's wall time (constant throughput within a run).
        case seconds
    }

    static let gridPoints = 60

    /// The metric a study's chart shows by default: the training reward for token runs, the episodic
    /// return for control runs.
    static func defaultMetric(_ plan: StudyPlan) -> String {
        switch plan.target {
        case .task: return "reward"
        case .dataset: return plan.datasetUnit == "sequences" ? "loss" : "eval/preference_accuracy"
        case .environment:
            return plan.configurations.allSatisfy { plan.algorithm(of: $0) == "ac-average-reward" }
                ? "average_reward" : "charts/episodic_return"
        }
    }

    static func curves(
        report: StudyReport, metric: String, axis: Axis, store: Store, bootstrap: Bootstrap
    ) throws -> [(curve: Curve, seeds: Int)] {
        var curves: [(curve: Curve, seeds: Int)] = []
        for configuration in report.configurations {
            var seeds: [[(x: Double, y: Double)]] = []
            for run in report.runs where run.configuration == configuration.configuration && run.status == "finished" {
                let info = try store.run(run.run)
                let points = try store.metrics(runID: info.id, name: metric)
                guard !points.isEmpty else { continue }
                let total = Double(points.map(\.samplesSeen).max() ?? 1)
                let wall = (info.finishedAt ?? info.startedAt) - info.startedAt
                seeds.append(points.map { point -> (x: Double, y: Double) in
                    let samples = Double(point.samplesSeen)
                    return (axis == .samples ? samples : samples / max(total, 1) * wall, point.value)
                })
            }
            guard let xMax = seeds.flatMap({ $0.map(\.x) }).max(), xMax > 0 else { continue }
            let grid = (1...gridPoints).map { xMax * Double($0) / Double(gridPoints) }
            let gridded = seeds.map { onGrid($0, grid: grid) }
            var points: [(x: Double, y: Double)] = []
            var band: [(x: Double, lower: Double, upper: Double)] = []
            for (index, x) in grid.enumerated() {
                let values = gridded.compactMap { $0[index] }
                guard let summary = SeedSummary(values, bootstrap: bootstrap) else { continue }
                points.append((x, summary.mean))
                if let interval = summary.interval { band.append((x, interval.lower, interval.upper)) }
            }
            let seedCount = seeds.count
            curves.append((Curve(
                label: "\(configuration.configuration) (\(seedCount) seed\(seedCount == 1 ? "" : "s"))",
                points: points, band: band), seedCount))
        }
        return curves
    }

    /// One value per grid cell (x in (grid[i-1], grid[i]]): the mean of the points there, else the last value
    /// before; nil before the first point. A finished run keeps its last value to the end of the axis (its
    /// policy stays as it ended), so on the seconds axis a fast seed still counts where a slow one is running.
    static func onGrid(_ points: [(x: Double, y: Double)], grid: [Double]) -> [Double?] {
        var values: [Double?] = []
        var next = 0
        var previous: Double?
        for x in grid {
            var sum = 0.0, count = 0
            while next < points.count, points[next].x <= x {
                sum += points[next].y
                count += 1
                next += 1
            }
            if count > 0 { previous = sum / Double(count) }
            values.append(previous)
        }
        return values
    }

    static func write(
        _ path: String, report: StudyReport, metric: String, axis: Axis, store: Store, bootstrap: Bootstrap
    ) throws {
        let curves = try curves(report: report, metric: metric, axis: axis, store: store, bootstrap: bootstrap)
        guard !curves.isEmpty else {
            throw CLIError("no finished run of study \(report.study) logged '\(metric)' — choose another --metric")
        }
        let counts = curves.map(\.seeds)
        let low = counts.min() ?? 0, high = counts.max() ?? 0
        let seeds = low == high ? "over \(low) seed\(low == 1 ? "" : "s")" : "over \(low)–\(high) seeds"
        let chart = SVGChart.render(
            title: "\(report.study): \(metric), mean and 95 % bootstrap band \(seeds)",
            xLabel: axis == .samples
                ? "samples seen (completions, pairs or environment steps)"
                : "wall-clock seconds (each run's time spread evenly over its samples)",
            yLabel: metric, curves: curves.map(\.curve))
        do {
            try Data(chart.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription) — check the path")
        }
    }
}
