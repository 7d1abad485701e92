import ArgumentParser
import Benchmarks
import Foundation

extension PolicyLab {
    /// `policylab bench`: the throughput suite. Run it on a release build (`swift run -c release`).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure PolicyLab's throughput (release build): kernels, transformer training and sampling, "
                + "environments, trainers, data import.",
            discussion: """
                Keys of --json output are stable; benchmarks/render_table.py builds the README's table from them \
                and benchmarks/README.md says what each one times. A figure that cannot be measured makes the \
                command fail, naming its key.
                """)

        @Flag(help: "Shorter timings (noisier) and TRL's QUICK=1 trainer lengths, for a quick check.") var quick = false
        @Option(help: "Run only the figures whose key contains this text (e.g. gpt_s); it must match one.")
        var filter: String?
        @Flag(help: "List the keys and units (no measuring).") var list = false
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let all = BenchmarkSuite.figures(quick: quick) + [
                BenchmarkFigure("import_rows_per_s", "rows/s") {
                    try ImportBenchmark.rowsPerSecond(rows: quick ? 20_000 : 100_000)
                },
            ]
            let figures = try BenchmarkRunner.select(all, filter: filter)
            if list {
                for (key, unit) in figures.flatMap(\.keys) {
                    print("\(key.padding(toLength: 40, withPad: " ", startingAt: 0)) \(unit)")
                }
                return
            }
            #if DEBUG
            if !options.json {
                print("note: this is a debug build; figures are not representative (use swift run -c release)")
            }
            #endif
            let (measurements, failures) = BenchmarkRunner.run(figures) { measurement in
                if !options.json {
                    let key = measurement.key.padding(toLength: 40, withPad: " ", startingAt: 0)
                    print("\(key) \(String(format: "%12.3f", measurement.value)) \(measurement.unit)")
                }
            }
            if options.json {
                var object: [String: Double] = [:]
                for measurement in measurements {
                    object[measurement.key] = (measurement.value * 1000).rounded() / 1000
                }
                JSONOutput.print(object)
            }
            if !failures.isEmpty { throw BenchmarkError.figuresFailed(failures) }
        }
    }
}
