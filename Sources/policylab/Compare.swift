import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab compare RUN RUN…`: final figures side by side and the curves on one chart.
    ///
    /// Every figure sits in a column headed by the metric's logged name, so one column never holds quantities
    /// with different definitions (GRPO's `kl` and TRL's `objective/kl` are not the same estimate), and a run
    /// that never logged a metric shows "—" there, not 0.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Compare runs: final figures in one table, reward-vs-samples curves as sparklines and an SVG chart.
                """,
            discussion: """
                Columns are the metrics' logged names (TRL's): the evaluation figures, the token trainers' reward, \
                reward_std (over the batch), entropy and completions/clipped_ratio, and every KL estimate that one \
                of the runs logged, each its last value. "—" means the run never logged that metric.
                """)

        @Argument(help: "Run ids or names.") var runs: [String]
        @Option(help: "Write the chart as SVG to this file.") var svg: String?
        @Option(help: """
            The metric to plot (default: reward for token RL, charts/episodic_return for control, \
            eval/reward otherwise).
            """)
        var metric: String?
        @OptionGroup var options: GlobalOptions

        func validate() throws { guard !runs.isEmpty else { throw ValidationError("give at least one run") } }

        /// Evaluation figures shown when at least one run logged them, in this order.
        static let evaluationMetrics = [
            "eval/exact_match", "eval/reward", "eval/return_mean", "eval/preference_accuracy", "eval/accuracy",
        ]

        /// Training figures of the token RL trainers shown when at least one run logged them, in this order.
        static let trainingMetrics = ["reward", "reward_std", "entropy", "completions/clipped_ratio"]

        /// Whether `name` is a KL estimate (`kl`, `objective/kl`, `sequence_kl`, `losses/approx_kl`, …).
        static func isKLMetric(_ name: String) -> Bool {
            (name.split(separator: "/").last ?? "").lowercased().split(separator: "_").contains("kl")
        }

        /// The columns for these runs' metric names: evaluation figures first, then the token trainers'
        /// training figures, then KL estimates by name.
        static func columns(loggedNames: Set<String>) -> [String] {
            evaluationMetrics.filter(loggedNames.contains) + trainingMetrics.filter(loggedNames.contains)
                + loggedNames.filter(isKLMetric).sorted()
        }

        struct Row: Encodable {
            let run: String
            let algorithm: String
            let target: String
            let status: String
            /// The plotted metric and the mean of its last 5 % of points (nil if the run never logged it).
            let metric: String
            let finalValue: Double?
            /// The last logged value of each column's metric; a metric the run never logged is absent.
            let latest: [String: Double]
            let samplesSeen: Int
            let wallSeconds: Double?
        }

        static func defaultMetric(_ names: Set<String>) -> String {
            let preferred = ["reward", "charts/episodic_return", "eval/reward", "loss"]
            return preferred.first(where: names.contains) ?? names.sorted().first ?? "loss"
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            var metricsByRun: [(RunInfo, [MetricPoint])] = []
            for reference in runs {
                let info = try store.run(reference)
                metricsByRun.append((info, try store.metrics(runID: info.id)))
            }
            let columns = Self.columns(loggedNames: Set(metricsByRun.flatMap { $0.1.map(\.name) }))
            var rows: [Row] = []
            var curves: [Curve] = []
            for (info, all) in metricsByRun {
                let name = metric ?? Self.defaultMetric(Set(all.map(\.name)))
                let series = all.filter { $0.name == name }
                let tail = series.suffix(max(1, series.count / 20)).map(\.value)
                var latest: [String: Double] = [:]
                for point in all where columns.contains(point.name) { latest[point.name] = point.value }
                rows.append(Row(
                    run: info.name, algorithm: info.algorithm, target: info.target, status: info.status.rawValue,
                    metric: name, finalValue: tail.isEmpty ? nil : tail.reduce(0, +) / Double(tail.count),
                    latest: latest, samplesSeen: all.map(\.samplesSeen).max() ?? 0,
                    wallSeconds: info.finishedAt.map { $0 - info.startedAt }))
                curves.append(Curve(
                    label: "\(info.algorithm) · \(info.name)",
                    points: series.map { (Double($0.samplesSeen), $0.value) }))
            }
            let plotted = Set(rows.map(\.metric))
            if let svg { try writeChart(svg, curves: curves, metrics: rows.map(\.metric)) }
            if options.json {
                JSONOutput.print(rows)
                return
            }
            func formatted(_ value: Double?, _ format: String = "%.3f") -> String {
                value.map { String(format: format, $0) } ?? "—"
            }
            var table = TableFormatter(
                ["run", "algorithm", "target", "metric (final)"] + columns + ["samples", "wall s", "status"])
            for row in rows {
                table.append(
                    [row.run, row.algorithm, row.target, "\(row.metric) \(formatted(row.finalValue))"]
                        + columns.map { formatted(row.latest[$0], Self.isKLMetric($0) ? "%.4f" : "%.3f") }
                        + ["\(row.samplesSeen)", formatted(row.wallSeconds, "%.1f"), row.status])
            }
            print(table.render())
            // One scale for all rows when they plot the same metric (so heights compare), else one per row.
            let all = curves.flatMap { $0.points.map(\.y) }
            print("")
            for (row, curve) in zip(rows, curves) {
                let values = plotted.count == 1 ? all : curve.points.map(\.y)
                let low = values.min(), high = values.max()
                let sparkline = Sparkline.render(curve.points, low: low ?? 0, high: high ?? 1)
                let name = row.run.padding(toLength: 36, withPad: " ", startingAt: 0)
                print("\(name) \(sparkline)  \(row.metric) \(formatted(low)) … \(formatted(high))")
            }
            if let svg { print("\nchart written to \(svg)") }
        }

        private func writeChart(_ path: String, curves: [Curve], metrics: [String]) throws {
            let sameMetric = Set(metrics).count == 1
            let chart = SVGChart.render(
                title: "\(sameMetric ? metrics[0] : "metric") vs samples seen",
                xLabel: "samples seen (env steps, completions or pairs)",
                yLabel: sameMetric ? metrics[0] : metrics.joined(separator: " / "),
                curves: curves.map {
                    Curve(label: $0.label, points: smoothed($0.points, window: max(1, $0.points.count / 50)))
                })
            do {
                try Data(chart.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw CLIError("cannot write \(path): \(error.localizedDescription) — check the path")
            }
        }
    }
}
