import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab compare RUN RUN…`: final figures side by side and the curves on one chart.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare runs: final figures in one table, reward-vs-samples curves as sparklines and an SVG chart.")

        @Argument(help: "Run ids or names.") var runs: [String]
        @Option(help: "Write the chart as SVG to this file.") var svg: String?
        @Option(help: "The metric to plot (default: reward for token RL, charts/episodic_return for control, eval/reward otherwise).") var metric: String?
        @OptionGroup var options: GlobalOptions

        func validate() throws { guard !runs.isEmpty else { throw ValidationError("give at least one run") } }

        struct Row: Encodable {
            let run: String
            let algorithm: String
            let target: String
            let status: String
            let metric: String
            let finalValue: Double?
            let evalExactMatch: Double?
            let evalReward: Double?
            let evalReturnMean: Double?
            let kl: Double?
            let samplesSeen: Int
            let wallSeconds: Double?
        }

        static func defaultMetric(_ names: Set<String>) -> String {
            for candidate in ["reward", "charts/episodic_return", "eval/reward", "loss"] where names.contains(candidate) { return candidate }
            return names.sorted().first ?? "loss"
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            var rows: [Row] = []
            var curves: [Curve] = []
            var chosenMetrics: [String] = []
            for reference in runs {
                let info = try store.run(reference)
                let all = try store.metrics(runID: info.id)
                let names = Set(all.map(\.name))
                let name = metric ?? Self.defaultMetric(names)
                chosenMetrics.append(name)
                let series = all.filter { $0.name == name }
                let last = { (n: String) in all.last { $0.name == n }?.value }
                rows.append(Row(
                    run: info.name, algorithm: info.algorithm, target: info.target, status: info.status.rawValue, metric: name,
                    finalValue: series.suffix(max(1, series.count / 20)).map(\.value).reduce(0, +) / Double(max(1, min(series.count, max(1, series.count / 20)))),
                    evalExactMatch: last("eval/exact_match"), evalReward: last("eval/reward"), evalReturnMean: last("eval/return_mean"),
                    kl: last("kl") ?? last("objective/kl"), samplesSeen: all.map(\.samplesSeen).max() ?? 0,
                    wallSeconds: info.finishedAt.map { $0 - info.startedAt }))
                curves.append(Curve(label: "\(info.algorithm) · \(info.name)", points: series.map { (Double($0.samplesSeen), $0.value) }))
            }
            if let svg {
                let sameMetric = Set(chosenMetrics).count == 1
                let chart = SVGChart.render(
                    title: "\(sameMetric ? chosenMetrics[0] : "metric") vs samples seen", xLabel: "samples seen (env steps, completions or pairs)",
                    yLabel: sameMetric ? chosenMetrics[0] : chosenMetrics.joined(separator: " / "),
                    curves: curves.map { Curve(label: $0.label, points: smoothed($0.points, window: max(1, $0.points.count / 50))) })
                do { try Data(chart.utf8).write(to: URL(fileURLWithPath: svg), options: .atomic) } catch { throw CLIError("cannot write \(svg): \(error.localizedDescription) — check the path") }
            }
            if options.json {
                JSONOutput.print(rows)
                return
            }
            func f(_ v: Double?, _ format: String = "%.3f") -> String { v.map { String(format: format, $0) } ?? "—" }
            var table = TableFormatter(["run", "algorithm", "target", "metric (final)", "eval exact", "eval reward", "eval return", "KL", "samples", "wall s", "status"])
            for r in rows {
                table.append([r.run, r.algorithm, r.target, "\(r.metric) \(f(r.finalValue))", f(r.evalExactMatch), f(r.evalReward), f(r.evalReturnMean, "%.1f"), f(r.kl, "%.4f"), "\(r.samplesSeen)", f(r.wallSeconds, "%.1f"), r.status])
            }
            print(table.render())
            // One scale for all rows when they plot the same metric (so heights compare), else one per row.
            let shared = Set(chosenMetrics).count == 1
            let all = curves.flatMap { $0.points.map(\.y) }
            print("")
            for (row, curve) in zip(rows, curves) {
                let values = shared ? all : curve.points.map(\.y)
                let low = values.min() ?? 0, high = values.max() ?? 1
                print("\(row.run.padding(toLength: 36, withPad: " ", startingAt: 0)) \(Sparkline.render(curve.points, low: low, high: high))  \(row.metric) \(f(low)) … \(f(high))")
            }
            if let svg { print("\nchart written to \(svg)") }
        }
    }
}
