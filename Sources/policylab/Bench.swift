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
            let machine = BenchmarkMachine.current
            if !options.json { print(machine.summary) }
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
                var figures: [String: Double] = [:]
                for measurement in measurements {
                    figures[measurement.key] = (measurement.value * 1000).rounded() / 1000
                }
                JSONOutput.print(BenchReport(figures: figures, machine: machine))
            }
            if !failures.isEmpty { throw BenchmarkError.figuresFailed(failures) }
        }
    }
}

/// `bench --json`: one object, key → value for each figure, and `machine` (the CPU and the kernel path).
private struct BenchReport: Encodable {
    var figures: [String: Double]
    var machine: BenchmarkMachine

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in figures { try container.encode(value, forKey: Key(stringValue: key)) }
        try container.encode(machine, forKey: Key(stringValue: "machine"))
    }
}
