import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab inspect RUN [--step N]`: what the policy generated while training, and what the update
    /// made of it.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a run generated while training: completions, rewards, advantages, curves.",
            discussion: """
                Token RL runs (grpo, rloo, token-ppo) log all G completions of 2 prompts at step 1, every 10 \
                steps and at the last step, with reward, advantage, length and whether the completion was \
                truncated (hit --max-new-tokens without EOS); token PPO adds the value estimate and the \
                per-token KL. Every evaluation also logs a few greedy completions of held-out prompts. Without \
                --step: sparklines of reward, entropy and the rest over steps, then the last logged step.
                """)
        @Argument(help: "The run's id or name.") var reference: String
        @Option(help: "The step whose samples to show (default: the last step that logged samples).") var step: Int?
        @Option(help: "At most this many samples (the latest).") var limit: Int = 40
        @OptionGroup var options: GlobalOptions

        func validate() throws { guard limit > 0 else { throw ValidationError("--limit must be at least 1") } }

        struct Output: Encodable {
            let run: String
            let algorithm: String
            /// The step shown (nil when the run logged no samples).
            let step: Int?
            /// Every step at which the run logged samples.
            let sampleSteps: [Int]
            let curves: [RunCurves.Series]
            let samples: [SampleRecord]
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let info = try store.run(reference)
            let sampleSteps = try store.sampleSteps(runID: info.id)
            if let step, !sampleSteps.contains(step) {
                throw CLIError(
                    "run \(info.name) logged no samples at step \(step) — "
                        + (sampleSteps.isEmpty ? "it logged none" : "steps with samples: \(Self.list(sampleSteps))"))
            }
            let shown = step ?? sampleSteps.last
            let samples = try shown.map { try store.samples(runID: info.id, step: $0, limit: limit) } ?? []
            let curves = try RunCurves(store: store, runID: info.id)
            if options.json {
                JSONOutput.print(Output(
                    run: info.name, algorithm: info.algorithm, step: shown, sampleSteps: sampleSteps,
                    curves: curves.series, samples: samples))
                return
            }
            print("run \(info.id): \(info.name)  (\(info.algorithm) on \(info.target))")
            if step == nil { for line in curves.lines() { print("  \(line)") } }
            guard let shown else {
                print("no samples logged — token runs log them at step 1, every 10 steps and at each evaluation")
                return
            }
            print("samples at step \(shown)  (logged at steps \(Self.list(sampleSteps)))")
            print(Self.render(samples))
        }

        /// Steps as a short list: all of them when few, else the first and last few.
        static func list(_ steps: [Int]) -> String {
            guard steps.count > 8 else { return steps.map(String.init).joined(separator: ", ") }
            return (steps.prefix(4).map(String.init) + ["…"] + steps.suffix(3).map(String.init))
                .joined(separator: ", ")
        }

        /// Rollout samples prompt by prompt (all G completions each), then evaluation samples, then samples
        /// without a source (older runs, SFT, DPO). Columns a run did not record are left out.
        static func render(_ samples: [SampleRecord]) -> String {
            func number(_ value: Double?, _ format: String = "%.3f") -> String {
                value.map { String(format: format, $0) } ?? "—"
            }
            func text(_ completion: String) -> String { completion.isEmpty ? "∅" : abbreviated(completion, to: 24) }
            func truncation(_ value: Bool?) -> String { value.map { $0 ? "yes" : "no" } ?? "—" }
            var sections: [String] = []
            let rollout = samples.filter { $0.source == "rollout" }
            let hasValues = rollout.contains { $0.value != nil }, hasKL = rollout.contains { $0.tokenKL != nil }
            for group in Array(Set(rollout.compactMap(\.group))).sorted() {
                let members = rollout.filter { $0.group == group }
                var table = TableFormatter(
                    ["#", "completion", "reward", "advantage", "length", "truncated"]
                        + (hasValues ? ["value"] : []) + (hasKL ? ["per-token KL"] : []))
                for (index, sample) in members.enumerated() {
                    var row: [String] = [
                        "\(index)", text(sample.completion), number(sample.reward), number(sample.advantage, "%+.3f"),
                        sample.length.map(String.init) ?? "—", truncation(sample.truncated),
                    ]
                    if hasValues { row.append(number(sample.value)) }
                    if hasKL {
                        let kl: [String] = (sample.tokenKL ?? []).map { String(format: "%.3f", $0) }
                        row.append(sample.tokenKL == nil ? "—" : kl.joined(separator: " "))
                    }
                    table.append(row)
                }
                sections.append("rollout prompt \(members[0].prompt)  (\(members.count) completions)\n"
                    + table.render())
            }
            let evaluation = samples.filter { $0.source == "evaluation" }
            if !evaluation.isEmpty {
                var table = TableFormatter(["prompt", "greedy completion", "reward", "length", "truncated"])
                for sample in evaluation {
                    table.append([abbreviated(sample.prompt, to: 24), text(sample.completion), number(sample.reward),
                                  sample.length.map(String.init) ?? "—", truncation(sample.truncated)])
                }
                sections.append("evaluation (held-out prompts, greedy)\n" + table.render())
            }
            let other = samples.filter { $0.source == nil || !["rollout", "evaluation"].contains($0.source!) }
            if !other.isEmpty {
                var table = TableFormatter(["step", "prompt", "completion", "reward", "log-prob"])
                for sample in other {
                    table.append(["\(sample.step)", abbreviated(sample.prompt, to: 24), text(sample.completion),
                                  number(sample.reward), number(sample.logprob)])
                }
                sections.append(table.render())
            }
            return sections.joined(separator: "\n\n")
        }
    }
}
