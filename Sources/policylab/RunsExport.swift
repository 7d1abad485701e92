import ArgumentParser
import Foundation
import Store

extension PolicyLab.Runs {
    /// `policylab runs export RUN --format csv|jsonl [--out FILE]`: every metric series of a run, for plotting
    /// in one's own tools.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every metric series of a run as CSV or JSON Lines (to a file or standard output).",
            discussion: """
                Long format, one row per logged point, ordered by step: run, step, samples_seen (the budget axis: \
                environment steps, completions or pairs), metric, value. In pandas: \
                pd.read_csv(FILE).pivot_table(index="step", columns="metric", values="value").
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case csv, jsonl }

        @Argument(help: "The run's id or name.") var reference: String
        @Option(help: "csv or jsonl.") var format: Format
        @Option(help: "Output file (default: standard output).") var out: String?
        @Option(help: "Only this metric (repeatable; default: every metric).") var metric: [String] = []
        @OptionGroup var options: GlobalOptions

        struct Line: Encodable {
            let run: String
            let step: Int
            let samplesSeen: Int
            let metric: String
            let value: Double
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let info = try store.run(reference)
            var points = try store.metrics(runID: info.id)
            if !metric.isEmpty {
                let logged = Set(points.map(\.name))
                if let missing = metric.first(where: { !logged.contains($0) }) {
                    throw CLIError(
                        "run \(info.name) logged no metric '\(missing)' — it logged "
                            + logged.sorted().joined(separator: ", "))
                }
                let wanted = Set(metric)
                points = points.filter { wanted.contains($0.name) }
            }
            var text = ""
            switch format {
            case .csv:
                text = "run,step,samples_seen,metric,value\n"
                for point in points {
                    text += [csvField(info.name), "\(point.step)", "\(point.samplesSeen)", csvField(point.name),
                             "\(point.value)"].joined(separator: ",") + "\n"
                }
            case .jsonl:
                for point in points {
                    text += JSONOutput.string(Line(
                        run: info.name, step: point.step, samplesSeen: point.samplesSeen, metric: point.name,
                        value: point.value)) + "\n"
                }
            }
            guard let out else {
                FileHandle.standardOutput.write(Data(text.utf8))
                return
            }
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw CLIError("cannot write \(out): \(error.localizedDescription) — check the path")
            }
            if options.json {
                struct Summary: Encodable { let run: String; let out: String; let points: Int; let metrics: Int }
                JSONOutput.print(Summary(
                    run: info.name, out: out, points: points.count, metrics: Set(points.map(\.name)).count))
            } else {
                let metrics = Set(points.map(\.name)).count
                print("wrote \(points.count) points of \(metrics) metrics of \(info.name) to \(out)")
            }
        }

        /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
        private func csvField(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}
