import ArgumentParser
import Foundation
import NN
import Training
import Policies

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
            record("fma_peak_1t_gflops", "GFLOP/s") { NumericBenchmarks.fusedMultiplyAddPeakGigaflops(minimumSeconds: seconds) }
            record("gemm_1t_trunk_s_gflops", "GFLOP/s") { NumericBenchmarks.trunkGemmGigaflops(rows: 1024, width: 64, minimumSeconds: seconds) }
            record("gemm_1t_trunk_m_gflops", "GFLOP/s") { NumericBenchmarks.trunkGemmGigaflops(rows: 1024, width: 128, minimumSeconds: seconds) }
            record("attention_1t_s_seqheads_per_s", "(seq, head)/s") { NumericBenchmarks.attentionSequenceHeadsPerSecond(time: 32, headSize: 16, minimumSeconds: seconds) }
            record("attention_1t_m_seqheads_per_s", "(seq, head)/s") { NumericBenchmarks.attentionSequenceHeadsPerSecond(time: 64, headSize: 32, minimumSeconds: seconds) }
            record("exp_melem_per_s", "Melem/s") { NumericBenchmarks.elementwiseMegaelementsPerSecond({ $0.exp() }, minimumSeconds: seconds) }
            record("gelu_melem_per_s", "Melem/s") { NumericBenchmarks.elementwiseMegaelementsPerSecond({ $0.gelu() }, minimumSeconds: seconds) }
            record("gpt_s_train_tokens_per_s", "tokens/s") {
                NumericBenchmarks.transformerTrainingTokensPerSecond(config: .small, batch: 64, minimumSeconds: 2 * seconds)
            }
            record("gpt_m_train_tokens_per_s", "tokens/s") {
                NumericBenchmarks.transformerTrainingTokensPerSecond(config: .medium, batch: 32, minimumSeconds: 2 * seconds)
            }
            record("sampling_s_b64_tokens_per_s", "tokens/s") { SystemBenchmarks.samplingTokensPerSecond(config: .small, batch: 64, minimumSeconds: seconds) }
            record("sampling_m_b32_tokens_per_s", "tokens/s") { SystemBenchmarks.samplingTokensPerSecond(config: .medium, batch: 32, minimumSeconds: seconds) }
            record("env_cartpole_steps_per_s", "steps/s") { (try? SystemBenchmarks.cartPoleStepsPerSecond(vectorized: false, steps: quick ? 500_000 : 4_000_000)) ?? .nan }
            record("env_cartpole_vector8_steps_per_s", "steps/s") { (try? SystemBenchmarks.cartPoleStepsPerSecond(vectorized: true, steps: quick ? 500_000 : 4_000_000)) ?? .nan }
            record("ppo_cartpole_sps", "steps/s") { (try? SystemBenchmarks.ppoCartPoleStepsPerSecond(totalSteps: quick ? 10_240 : 51_200)) ?? .nan }
            // Token RL and DPO at TRL's anchor settings (sizes s and m, random init, tied embeddings).
            let steps = quick ? 8 : 30
            var medium = TransformerConfig.medium
            medium.tiedEmbeddings = true
            for (size, model) in [("s", TransformerConfig.tokenPolicySmall), ("m", medium)] {
                for (algorithm, beta, label) in [(TokenRLAlgorithm.grpo, 0.0, "grpo_\(size)_beta0"), (.grpo, 0.04, "grpo_\(size)_beta004"),
                                                 (.rloo, 0.05, "rloo_\(size)_beta005"), (.ppo, 0.05, "ppo_tokens_\(size)")] {
                    var share = Double.nan
                    record("\(label)_completions_per_s", "completions/s") {
                        let r = try? SystemBenchmarks.tokenRLCompletionsPerSecond(algorithm, model: model, beta: beta, steps: steps)
                        share = r?.samplingShare ?? .nan
                        return r?.completionsPerSecond ?? .nan
                    }
                    if share.isFinite { record("\(label)_sampling_share", "fraction") { share } }
                }
                record("dpo_\(size)_precomputed_pairs_per_s", "pairs/s") { (try? SystemBenchmarks.dpoPairsPerSecond(model: model, steps: steps)) ?? .nan }
                record("dpo_\(size)_reference_pairs_per_s", "pairs/s") { (try? SystemBenchmarks.dpoPairsPerSecond(model: model, steps: steps, precomputeReference: false)) ?? .nan }
            }
            record("import_rows_per_s", "rows/s") { (try? ImportBenchmark.rowsPerSecond(rows: quick ? 20_000 : 100_000)) ?? .nan }
            if options.json {
                var object: [String: Double] = [:]
                // Figures that could not be measured are left out (JSON has no NaN).
                for result in results where result.value.isFinite { object[result.key] = (result.value * 1000).rounded() / 1000 }
                JSONOutput.print(object)
            }
        }
    }
}
