import ArgumentParser
import Environments
import Foundation
import Policies
import Store
import Tasks
import Training

extension PolicyLab {
    /// `policylab eval RUN`: evaluates a run's checkpoint again and keeps the result beside the run.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate any run's checkpoint (latest, or --step) and store the result.",
            discussion: """
                Control runs: the undiscounted return over --episodes seeded episodes (greedy actions, or sampled \
                ones with --sample). Token runs: exact match and mean reward on --prompts held-out prompts of the \
                run's task (greedy, or sampled at --temperature). --seed defaults to the run's own seed, so a \
                greedy evaluation repeats the one the trainer logged at the end.
                """)

        @Argument(help: "The run's id or name.") var reference: String
        @Option(help: "Control runs: evaluation episodes.") var episodes: Int?
        @Option(help: "Token runs: held-out prompts.") var prompts: Int?
        @Option(help: "Seed of the episodes' resets or the held-out prompt draw (default: the run's seed).")
        var seed: UInt64?
        @Flag(help: "Greedy actions / decoding (the default).") var greedy = false
        @Option(help: "Token runs: sample at this temperature instead of decoding greedily.") var temperature: Float?
        @Flag(help: "Control runs: sample actions from the policy instead of acting greedily.") var sample = false
        @Option(help: "Checkpoint step (default: the latest).") var step: Int?
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            if let episodes, episodes < 1 { throw ValidationError("--episodes must be at least 1") }
            if let prompts, prompts < 1 { throw ValidationError("--prompts must be at least 1") }
            if let temperature, !(temperature > 0 && temperature.isFinite) {
                throw ValidationError("--temperature must be > 0")
            }
            if greedy && (temperature != nil || sample) {
                throw ValidationError("--greedy contradicts --temperature / --sample — give one of them")
            }
        }

        struct Report: Encodable {
            let evaluation: Int64
            let run: String
            let checkpointStep: Int
            let kind: String
            let settings: [String: String]
            let results: [String: Double]
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let info = try store.run(reference)
            guard let checkpoint = try store.checkpoint(runID: info.id, step: step) else {
                let steps = try store.checkpointSteps(runID: info.id)
                throw CLIError(
                    "run \(info.name) has no checkpoint\(step.map { " at step \($0)" } ?? "") — "
                        + (steps.isEmpty ? "it saved none" : "choose a step of \(steps.map(String.init))"))
            }
            let seed = self.seed ?? info.seed
            let kind: String
            var settings: [String: String] = ["seed": "\(seed)"]
            var results: [String: Double]
            if EnvironmentRegistry.allIDs.contains(info.target) {
                guard prompts == nil, temperature == nil else {
                    throw CLIError(
                        "run \(info.name) is a control run on \(info.target) — --prompts and --temperature are for "
                            + "token runs; use --episodes and --sample")
                }
                let environment = try EnvironmentRegistry.make(info.target)
                guard !environment.isContinuing else {
                    throw CLIError(
                        "run \(info.name) is on the continuing task \(info.target), which has no episodes — its "
                            + "greedy average reward is logged as eval/average_reward at the end of training")
                }
                let policy: ControlCheckpoint
                do {
                    policy = try ControlCheckpoint(configJSON: checkpoint.configJSON, weights: checkpoint.weights)
                } catch {
                    throw CLIError("run \(info.name): \(error)")
                }
                let episodes = self.episodes ?? 20
                let returns = try CheckpointEvaluation.control(
                    policy, environmentID: info.target, episodes: episodes, seed: seed, greedy: !sample)
                kind = "control"
                settings["episodes"] = "\(episodes)"
                settings["actions"] = sample ? "sampled" : "greedy"
                results = ["eval/return_mean": returns.mean, "eval/return_std": returns.standardDeviation]
            } else {
                guard episodes == nil, !sample else {
                    throw CLIError(
                        "run \(info.name) is a token run — --episodes and --sample are for control runs; use "
                            + "--prompts and --temperature")
                }
                guard (try? TaskRegistry.task(named: info.target)) != nil else {
                    throw CLIError(
                        "run \(info.name) trained on \(info.target), which is not a task with a verifier — eval "
                            + "needs a task run (sft, grpo, rloo, token-ppo, dpo with a task) or a control run")
                }
                let (_, policy) = try loadPolicy(run: info.name, store: store)
                let stored = (try? JSONSerialization.jsonObject(with: Data(info.configJSON.utf8))) as? [String: Any]
                let maxNewTokens = stored?["maxNewTokens"] as? Int ?? 8
                let prompts = self.prompts ?? stored?["evaluationPrompts"] as? Int ?? 256
                let evaluation = try CheckpointEvaluation.tokens(
                    policy, taskName: info.target, prompts: prompts, seed: seed, maxNewTokens: maxNewTokens,
                    temperature: temperature, samplingSeed: seed)
                kind = "tokens"
                settings["prompts"] = "\(prompts)"
                settings["decoding"] = temperature.map { "temperature \($0)" } ?? "greedy"
                settings["max_new_tokens"] = "\(maxNewTokens)"
                results = ["eval/exact_match": evaluation.exactMatch, "eval/reward": evaluation.meanReward]
            }
            settings["kind"] = kind
            let id = try store.saveEvaluation(
                runID: info.id, checkpointStep: checkpoint.step, settingsJSON: JSONOutput.string(settings),
                resultsJSON: JSONOutput.string(results))
            let report = Report(
                evaluation: id, run: info.name, checkpointStep: checkpoint.step, kind: kind, settings: settings,
                results: results)
            if options.json {
                JSONOutput.print(report)
                return
            }
            let figures = results.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }
            let how = settings.filter { $0.key != "kind" }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            print("\(info.name) (checkpoint step \(checkpoint.step)): " + figures.joined(separator: ", "))
            print("  " + how.joined(separator: ", ") + " · stored as evaluation \(id)")
        }
    }
}
