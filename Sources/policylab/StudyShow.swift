import ArgumentParser
import Foundation
import Store
import Studies

extension StudyChart.Axis: ExpressibleByArgument {}

extension PolicyLab.Study {
    /// `policylab study show NAME`: per-configuration statistics over seeds, the per-seed table and the
    /// pairwise differences of means, each with a 95 % percentile bootstrap interval (fixed seed: the same
    /// figures every time).
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a study: mean ± std and 95 % bootstrap CI per configuration, per-seed runs, differences.",
            discussion: """
                Final metrics are each run's last logged value; wall seconds run from the run's start to its end; \
                under a seconds budget, samples are the completions or environment steps each run used. \
                Only finished runs enter the statistics. "—" means no run (or not this run) logged the metric.
                """)

        @Argument(help: "The study's name.") var name: String
        @Option(help: "Write the mean curves with their 95 % bands as SVG to this file.") var svg: String?
        @Option(help: "The chart's x axis: samples or seconds.") var x: StudyChart.Axis = .samples
        @Option(help: "The metric to plot (default: reward for token studies, charts/episodic_return for control).")
        var metric: String?
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
            let study = try store.study(name)
            let bootstrap = Bootstrap()
            let report = try StudyReport.make(study: study, store: store, bootstrap: bootstrap)
            if let svg {
                let metric = try metric ?? StudyChart.defaultMetric(StudyRecord.plan(of: study))
                try StudyChart.write(
                    svg, report: report, metric: metric, axis: x, store: store,
                    bootstrap: Bootstrap(resamples: 2_000, seed: bootstrap.seed))
            }
            if options.json {
                JSONOutput.print(report)
                return
            }
            print(report.rendered())
            if let svg { print("\nchart written to \(svg)") }
        }
    }
}

/// Everything `study show` prints, built from the store; `--json` prints it as is.
struct StudyReport: Encodable {
    struct Configuration: Encodable {
        let configuration: String
        let finishedRuns: Int
        /// By metric name; a metric no finished run of this configuration logged is absent.
        let metrics: [String: SeedSummary]
    }

    struct SeedRun: Encodable {
        let configuration: String
        let seed: UInt64
        let run: String
        let status: String
        /// Final value by metric name; absent when the run did not log it.
        let metrics: [String: Double]
        let samplesSeen: Int?
    }

    struct Difference: Encodable {
        let metric: String
        /// The difference is mean(first) − mean(second).
        let first: String
        let second: String
        let difference: Double
        let interval: ConfidenceInterval?
        let excludesZero: Bool
    }

    let study: String
    let target: String
    let budget: String
    let seeds: [UInt64]
    let plannedRuns: Int
    let bootstrapResamples: Int
    let bootstrapSeed: UInt64
    /// Final metrics at least one finished run logged, in display order.
    let metrics: [String]
    let configurations: [Configuration]
    let runs: [SeedRun]
    let differences: [Difference]

    /// Final metrics a study summarises, in display order: evaluations (tokens: greedy exact match and reward on
    /// held-out prompts; control: greedy return, or reward per step of a continuing task; preference trainers:
    /// the implicit reward's accuracy on held-out pairs, KTO's on held-out labelled rows), wall time and, under a
    /// seconds budget, the samples used. Each name has one definition; a run that did not log one shows "—".
    static let finalMetrics = [
        "eval/exact_match", "eval/reward", "eval/return_mean", "eval/average_reward", "eval/preference_accuracy",
        "eval/label_accuracy", "wall_seconds", "samples",
    ]

    static func make(study: StudyInfo, store: Store, bootstrap: Bootstrap = Bootstrap()) throws -> StudyReport {
        let plan = try StudyRecord.plan(of: study)
        let finished = try StudyRecord.finishedPairs(study: study, store: store)
        var runs: [SeedRun] = []
        var values: [String: [String: [Double]]] = [:]  // configuration → metric → per-seed values
        for member in try store.studyRuns(studyID: study.id) {
            let run = try store.run("\(member.runID)")
            let latest = try store.latestMetrics(runID: run.id)
            var metrics: [String: Double] = [:]
            for point in latest where finalMetrics.contains(point.name) && point.name != "samples" {
                metrics[point.name] = point.value
            }
            if let finishedAt = run.finishedAt, run.status == .finished {
                metrics["wall_seconds"] = finishedAt - run.startedAt
            }
            // Under a seconds budget the samples a run used are an outcome, summarised like the others.
            if plan.seconds != nil, run.status == .finished, let used = latest.map(\.samplesSeen).max() {
                metrics["samples"] = Double(used)
            }
            runs.append(SeedRun(
                configuration: member.configuration, seed: member.seed, run: run.name, status: run.status.rawValue,
                metrics: metrics, samplesSeen: latest.map(\.samplesSeen).max()))
            let pair = StudyRecord.Pair(configuration: member.configuration, seed: member.seed)
            guard finished[pair]?.id == run.id else { continue }
            for (metric, value) in metrics {
                values[member.configuration, default: [:]][metric, default: []].append(value)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: plan.configurations.enumerated().map { ($1, $0) })
        runs.sort { (order[$0.configuration] ?? 0, $0.seed) < (order[$1.configuration] ?? 0, $1.seed) }

        let shown = finalMetrics.filter { metric in values.values.contains { $0[metric] != nil } }
        let configurations = plan.configurations.map { configuration in
            let byMetric = values[configuration] ?? [:]
            var summaries: [String: SeedSummary] = [:]
            for metric in shown {
                summaries[metric] = byMetric[metric].flatMap { SeedSummary($0, bootstrap: bootstrap) }
            }
            return Configuration(
                configuration: configuration,
                finishedRuns: finished.keys.filter { $0.configuration == configuration }.count,
                metrics: summaries)
        }
        var differences: [Difference] = []
        for metric in shown {
            for (i, first) in plan.configurations.enumerated() {
                for second in plan.configurations[(i + 1)...] {
                    guard let a = values[first]?[metric], let b = values[second]?[metric],
                        let difference = MeanDifference(a, b, bootstrap: bootstrap)
                    else { continue }
                    differences.append(Difference(
                        metric: metric, first: first, second: second, difference: difference.difference,
                        interval: difference.interval, excludesZero: difference.excludesZero))
                }
            }
        }
        return StudyReport(
            study: study.name, target: plan.targetName, budget: study.budget, seeds: plan.seeds,
            plannedRuns: plan.pairs.count, bootstrapResamples: bootstrap.resamples, bootstrapSeed: bootstrap.seed,
            metrics: shown, configurations: configurations, runs: runs, differences: differences)
    }

    /// Returns and wall seconds with one decimal; rates and rewards with three.
    static func format(_ value: Double?, metric: String) -> String {
        guard let value else { return "—" }
        if metric == "samples" { return String(format: "%.0f", value) }
        return String(format: metric == "wall_seconds" || metric.contains("return") ? "%.1f" : "%.3f", value)
    }

    static func format(_ interval: ConfidenceInterval?, metric: String) -> String {
        guard let interval else { return "—" }
        return "[\(format(interval.lower, metric: metric)), \(format(interval.upper, metric: metric))]"
    }

    func rendered() -> String {
        let finishedRuns = configurations.map(\.finishedRuns).reduce(0, +)
        var out = [
            "study \(study): \(target), \(configurations.map(\.configuration).joined(separator: " vs ")), "
                + "seeds \(StudyRecord.describe(seeds: seeds)), budget \(budget) per run "
                + "(\(finishedRuns) of \(plannedRuns) runs finished)",
            "",
        ]
        if metrics.isEmpty {
            out.append("no finished run has logged a final metric yet — `policylab study run \(study)` runs the rest")
            return out.joined(separator: "\n")
        }
        out.append("per configuration: mean ± std over seeds, 95 % percentile bootstrap CI of the mean "
            + "(B = \(bootstrapResamples), fixed seed)")
        var summary = TableFormatter(["configuration", "metric", "mean ± std", "95 % CI", "n seeds"])
        for configuration in configurations {
            for metric in metrics {
                let stats = configuration.metrics[metric]
                let spread = stats?.standardDeviation.map { " ± " + Self.format($0, metric: metric) } ?? ""
                summary.append([
                    configuration.configuration, metric,
                    stats.map { Self.format($0.mean, metric: metric) + spread } ?? "—",
                    Self.format(stats?.interval, metric: metric), "\(stats?.count ?? 0)",
                ])
            }
        }
        out += [summary.render(), "", "per seed (final values)"]
        var perSeed = TableFormatter(["configuration", "seed", "run"] + metrics + ["samples", "status"])
        for run in runs {
            perSeed.append(
                [run.configuration, "\(run.seed)", run.run] + metrics.map { Self.format(run.metrics[$0], metric: $0) }
                    + [run.samplesSeen.map(String.init) ?? "—", run.status])
        }
        out.append(perSeed.render())
        if !differences.isEmpty {
            out += ["", "pairwise differences of means (first − second), 95 % bootstrap CI"]
            var table = TableFormatter(["metric", "first − second", "difference", "95 % CI", "excludes 0"])
            for difference in differences {
                table.append([
                    difference.metric, "\(difference.first) − \(difference.second)",
                    Self.format(difference.difference, metric: difference.metric),
                    Self.format(difference.interval, metric: difference.metric),
                    difference.interval == nil
                        ? "— (needs ≥ 2 seeds each)" : difference.excludesZero ? "yes" : "no",
                ])
            }
            out.append(table.render())
        }
        return out.joined(separator: "\n")
    }
}
