import NN
import Training

/// The figures of `policylab bench`, in the order they run. The keys of `--json` are stable: the README's
/// throughput table (`benchmarks/render_table.py`) is built from them. What each one times, and the
/// anchor it is read against, is listed in `benchmarks/README.md`.
public enum BenchmarkSuite {
    /// Every figure; `quick` shortens the timings (noisier) and the trainer runs (TRL's QUICK=1 lengths).
    public static func figures(quick: Bool) -> [BenchmarkFigure] {
        let seconds = quick ? 0.3 : 1.5
        var figures: [BenchmarkFigure] = []
        for n in [64, 256, 512] {
            figures.append(.init("matmul_gflops_\(n)", "GFLOP/s") {
                KernelBenchmarks.matmulGigaflops(size: n, minimumSeconds: seconds)
            })
        }
        figures += [
            .init("fma_peak_1t_gflops", "GFLOP/s") {
                KernelBenchmarks.fusedMultiplyAddPeakGigaflops(minimumSeconds: seconds)
            },
            .init("gemm_1t_trunk_s_gflops", "GFLOP/s") {
                KernelBenchmarks.trunkGemmGigaflops(rows: 1024, width: 64, minimumSeconds: seconds)
            },
            .init("gemm_1t_trunk_m_gflops", "GFLOP/s") {
                KernelBenchmarks.trunkGemmGigaflops(rows: 1024, width: 128, minimumSeconds: seconds)
            },
            .init("attention_1t_s_seqheads_per_s", "(seq, head)/s") {
                KernelBenchmarks.attentionSequenceHeadsPerSecond(time: 32, headSize: 16, minimumSeconds: seconds)
            },
            .init("attention_1t_m_seqheads_per_s", "(seq, head)/s") {
                KernelBenchmarks.attentionSequenceHeadsPerSecond(time: 64, headSize: 32, minimumSeconds: seconds)
            },
            .init("exp_melem_per_s", "Melem/s") {
                KernelBenchmarks.elementwiseMegaelementsPerSecond({ $0.exp() }, minimumSeconds: seconds)
            },
            .init("gelu_melem_per_s", "Melem/s") {
                KernelBenchmarks.elementwiseMegaelementsPerSecond({ $0.gelu() }, minimumSeconds: seconds)
            },
            // The PyTorch anchor's tiny GPT (anchors/torch/gpt.py): S batch 64, M batch 32.
            .init("gpt_s_train_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.trainingTokensPerSecond(config: .small, batch: 64, minimumSeconds: 2 * seconds)
            },
            .init("gpt_m_train_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.trainingTokensPerSecond(config: .medium, batch: 32, minimumSeconds: 2 * seconds)
            },
            .init("sampling_s_b1_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.samplingTokensPerSecond(config: .small, batch: 1, minimumSeconds: seconds)
            },
            .init("sampling_s_b64_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.samplingTokensPerSecond(config: .small, batch: 64, minimumSeconds: seconds)
            },
            .init("sampling_m_b1_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.samplingTokensPerSecond(config: .medium, batch: 1, minimumSeconds: seconds)
            },
            .init("sampling_m_b32_tokens_per_s", "tokens/s") {
                TransformerBenchmarks.samplingTokensPerSecond(config: .medium, batch: 32, minimumSeconds: seconds)
            },
        ]
        // Classic control.
        let environmentSteps = quick ? 500_000 : 4_000_000
        figures += [
            .init("env_cartpole_steps_per_s", "steps/s") {
                try EnvironmentBenchmarks.cartPoleStepsPerSecond(steps: environmentSteps)
            },
            .init("env_cartpole_raw_steps_per_s", "steps/s") {
                EnvironmentBenchmarks.cartPoleRawStepsPerSecond(steps: environmentSteps)
            },
            .init("env_cartpole_vector8_steps_per_s", "steps/s") {
                try EnvironmentBenchmarks.cartPoleVectorStepsPerSecond(steps: environmentSteps / 4)
            },
            .init("ppo_cartpole_sps", "steps/s") {
                try EnvironmentBenchmarks.ppoCartPoleStepsPerSecond(totalSteps: quick ? 10_240 : 51_200)
            },
            .init("ppo_cartpole_rlzoo_sps", "steps/s") {
                try EnvironmentBenchmarks.ppoCartPoleStepsPerSecond(totalSteps: quick ? 10_240 : 51_200, rlZoo: true)
            },
        ]
        // Token RL and DPO at TRL's anchor settings (sizes s and m, random init, tied embeddings), as many
        // steps as TRL's anchor runs (run_all.sh; QUICK=1 with --quick).
        let rlSteps = quick ? 12 : 30, ppoSteps = quick ? 8 : 30, dpoSteps = quick ? 20 : 60
        var medium = TransformerConfig.medium
        medium.tiedEmbeddings = true
        for (size, model) in [("s", TransformerConfig.tokenPolicySmall), ("m", medium)] {
            let runs: [(TokenRLAlgorithm, Double, String, Int)] = [
                (.grpo, 0, "grpo_\(size)_beta0", rlSteps), (.grpo, 0.04, "grpo_\(size)_beta004", rlSteps),
                (.rloo, 0.05, "rloo_\(size)_beta005", rlSteps), (.ppo, 0.05, "ppo_tokens_\(size)", ppoSteps),
            ]
            for (algorithm, beta, label, steps) in runs {
                let keys = [("\(label)_completions_per_s", "completions/s"), ("\(label)_sampling_share", "fraction")]
                figures.append(.init(keys: keys) {
                    let run = try TokenTrainerBenchmarks.tokenRLCompletionsPerSecond(
                        algorithm, model: model, beta: beta, steps: steps)
                    return [run.completionsPerSecond, run.samplingShare]
                })
            }
            figures.append(.init("dpo_\(size)_precomputed_pairs_per_s", "pairs/s") {
                try TokenTrainerBenchmarks.dpoPairsPerSecond(model: model, steps: dpoSteps, precomputeReference: true)
            })
            figures.append(.init("dpo_\(size)_reference_pairs_per_s", "pairs/s") {
                try TokenTrainerBenchmarks.dpoPairsPerSecond(model: model, steps: dpoSteps, precomputeReference: false)
            })
        }
        // TRL's anchor setting (compared with TRL's 600-step run) and `train grpo`'s default recipe at the same
        // 38,400 completions, so that a sitting states the default's seconds per run beside TRL's.
        for (preset, label) in [(GRPOPreset.trl, "beta0"), (.default, "default")] {
            let sortKeys = [("grpo_s_\(label)_sort600_seconds", "s"),
                            ("grpo_s_\(label)_sort600_greedy_exact", "fraction")]
            figures.append(.init(keys: sortKeys) {
                let run = try TokenTrainerBenchmarks.grpoSortRun(preset: preset, steps: 600)
                return [run.seconds, run.greedyExact]
            })
        }
        return figures
    }
}
