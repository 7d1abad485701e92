import ArgumentParser
import Foundation
import Policies
import Randomness
import Store
import Tasks
import Training

extension PolicyLab {
    /// `policylab sample RUN --prompt TEXT`: completions from a run's latest checkpoint.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample completions from a run's token policy, with log-probs and (for task runs) rewards.")

        @Argument(help: "The run's id or name.") var reference: String
        @Option(help: "The prompt (characters of the vocabulary, e.g. 315204=).") var prompt: String
        @Option(name: .short, help: "How many completions.") var n: Int = 4
        @Option(help: "Sampling temperature.") var temperature: Float = 1
        @Option(help: "Keep only the k most likely tokens.") var topK: Int?
        @Option(help: "Nucleus sampling: keep the most likely tokens whose probabilities first reach p (0 < p ≤ 1).")
        var topP: Float?
        @Flag(help: "Greedy decoding (one completion).") var greedy = false
        @Option(help: "Maximum new tokens.") var maxNewTokens: Int = 8
        @Option(help: "Seed of the sampler.") var seed: UInt64 = 0
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard n > 0 else { throw ValidationError("-n must be at least 1") }
            guard temperature > 0 && temperature.isFinite else { throw ValidationError("--temperature must be > 0") }
            if let topK { guard topK > 0 else { throw ValidationError("--top-k must be at least 1") } }
            if let topP { guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must lie in (0, 1]") } }
            if greedy && (topK != nil || topP != nil) {
                throw ValidationError("--greedy takes the most likely token; --top-k and --top-p apply to sampling")
            }
            guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be at least 1") }
        }

        struct Completion: Encodable {
            let completion: String
            let logprob: Double
            let reward: Double?
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            let (info, policy) = try loadPolicy(run: reference, store: store)
            let codec = TokenTaskCodec()
            let encoded: [Int]
            do { encoded = try codec.encodePrompt(prompt) } catch { throw CLIError("\(error)") }
            guard encoded.count < policy.config.contextLength else {
                throw CLIError(
                    "the prompt has \(encoded.count) tokens but the model's context is "
                        + "\(policy.config.contextLength) — shorten the prompt")
            }
            let task = try? TaskRegistry.task(named: info.target)
            var generator = SeededGenerator(seed: seed)
            let count = greedy ? 1 : n
            let completions = policy.sample(
                prompts: Array(repeating: encoded, count: count),
                options: SamplingOptions(
                    temperature: temperature, greedy: greedy, topK: topK, topP: topP, maxNewTokens: maxNewTokens,
                    stopToken: codec.vocabulary.eosID),
                generator: &generator)
            let results = completions.map { sampled -> Completion in
                let text = codec.completionText(sampled.tokens)
                return Completion(
                    completion: text, logprob: Double(sampled.totalLogProbability),
                    reward: try? task?.reward(prompt: prompt, completion: text))
            }
            if options.json {
                struct Output: Encodable { let run: String; let prompt: String; let completions: [Completion] }
                JSONOutput.print(Output(run: info.name, prompt: prompt, completions: results))
                return
            }
            var table = TableFormatter(["#", "completion", "log-prob", "reward"])
            for (index, result) in results.enumerated() {
                table.append([
                    "\(index)", result.completion.isEmpty ? "∅" : result.completion,
                    String(format: "%.3f", result.logprob), result.reward.map { String(format: "%.3f", $0) } ?? "—",
                ])
            }
            print("\(info.name) · prompt \(prompt)")
            print(table.render())
        }
    }
}
