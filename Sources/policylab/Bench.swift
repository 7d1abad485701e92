import ArgumentParser
import Foundation
import NN
import Training

extension PolicyLab {
    /// `policylab bench`: the throughput suite. Run it on a release build (`swift run -c release`).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure PolicyLab's throughput (release build): kernels, transformer training, environments, data import.",
            discussion: "Keys of --json output are stable; the README's benchmark table is built from them.")

        @Flag(help: "Shorter timings (noisier), for a quick check.") var quick = false
        @Option(help: "Run only the figures whose key contains this text (e.g. gpt_s).") var filter: String?
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let seconds = quick ? 0.3 : 1.5
            var results: [(key: String, value: Double, unit: String)] = []
            func record(_ key: String, _ unit: String, _ measure: () -> Double) {
                if let filter, !key.contains(filter) { return }
                let value = measure()
                results.append((key, value, unit))
                if !options.json {
                    print("\(key.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%12.1f", value)) \(unit)")

                }
            }
            #if DEBUG
            if !options.json { print("note: this is a debug build; figures are not representative (use swift run -c release)") }
            #endif
            for n in [64, 256, 512] {
                record("matmul_gflops_\(n)", "GFLOP/s") { NumericBenchmarks.matmulGigaflops(size: n, minimumSeconds: seconds) }
            }
            record("gpt_s_train_tokens_per_s", "tokens/s") {
                NumericBenchmarks.transformerTrainingTokensPerSecond(config: .small, batch: 64, minimumSeconds: 2 * seconds)
            }
            record("gpt_m_train_tokens_per_s", "tokens/s") {
                NumericBenchmarks.transformerTrainingTokensPerSecond(config: .medium, batch: 32, minimumSeconds: 2 * seconds)
            }
            if options.json {
                var object: [String: Double] = [:]
                for result in results { object[result.key] = (result.value * 10).rounded() / 10 }
                JSONOutput.print(object)
            }
        }
    }
}
