import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab runs …`: training runs in the lab notebook.
    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List training runs, show one in detail, export its metrics.",
            subcommands: [List.self, Show.self, Export.self]
        )
    }
}

extension PolicyLab.Runs {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the runs, newest first.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
            try store.markAbandonedRunsInterrupted()
            let runs = try store.runs()
            if options.json {
                JSONOutput.print(runs)
                return
            }
            if runs.isEmpty {
                print("no runs yet — start one with `policylab train …`")
                return
            }
            var table = TableFormatter(["id", "name", "algorithm", "target", "seed", "status", "started (UTC)"])
            for run in runs {
                table.append([
                    "\(run.id)", run.name, run.algorithm, run.target, "\(run.seed)", run.status.rawValue,
                    formattedTime(run.startedAt),
                ])
            }
            print(table.render())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a run: config, status, last metrics, checkpoints.")
        @Argument(help: "The run's id or name.") var reference: String
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
            try store.markAbandonedRunsInterrupted()
            let info = try store.run(reference)
            let latest = try store.latestMetrics(runID: info.id)
            let checkpoints = try store.checkpointSteps(runID: info.id)
            let curves = try RunCurves(store: store, runID: info.id)
            if options.json {
                struct Shown: Encodable {
                    let run: RunInfo
                    let latestMetrics: [String: Double]
                    let checkpointSteps: [Int]
                    let curves: [RunCurves.Series]
                }
                JSONOutput.print(Shown(
                    run: info, latestMetrics: Dictionary(uniqueKeysWithValues: latest.map { ($0.name, $0.value) }),
                    checkpointSteps: checkpoints, curves: curves.series))
                return
            }
            print("run \(info.id): \(info.name)")
            print("  algorithm \(info.algorithm), target \(info.target), seed \(info.seed)")
            print("  status    \(info.status.rawValue)\(info.error.map { " (\($0))" } ?? "")")
            print("  started   \(formattedTime(info.startedAt)), finished \(formattedTime(info.finishedAt))")
            print("  config    \(info.configJSON)")
            let steps = checkpoints.isEmpty ? "none" : checkpoints.map(String.init).joined(separator: ", ")
            print("  checkpoints: \(steps)")
            if !latest.isEmpty {
                var table = TableFormatter(["metric", "step", "samples", "value"])
                for point in latest {
                    table.append([
                        point.name, "\(point.step)", "\(point.samplesSeen)", String(format: "%.6g", point.value),
                    ])
                }
                print(table.render())
            }
            let lines = curves.lines()
            if !lines.isEmpty {
                print("curves over steps:")
                for line in lines { print("  \(line)") }
            }
        }
    }
}
