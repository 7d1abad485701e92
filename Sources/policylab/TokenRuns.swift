import Foundation
import Policies
import Store
import Training

/// Loads the latest checkpoint of a run as a token policy (for --init, --ref and --reward).
func loadPolicy(run reference: String, store: Store) throws -> (RunInfo, TransformerPolicy) {
    let run = try store.run(reference)
    guard let checkpoint = try store.checkpoint(runID: run.id) else {
        throw CLIError("run \(run.name) has no checkpoint — pick a run that finished at least one evaluation")
    }
    do {
        return (run, try TransformerPolicy.decode(configJSON: checkpoint.configJSON, weights: checkpoint.weights))
    } catch {
        throw CLIError("run \(run.name) does not hold a token policy (\(run.algorithm) on \(run.target)) — pick a "
            + "run of sft, grpo, rloo, token-ppo or dpo on a task")
    }
}

struct TokenSummary: Encodable {
    let run: String
    let exactMatch: Double
    let meanReward: Double
    let steps: Int
    let completions: Int
    let wallSeconds: Double
    let samplingSeconds: Double
    let updateSeconds: Double
}

/// The final line of a token trainer that evaluates on a task (sft, grpo, rloo, token-ppo).
func printTokenSummary(run: String, result: TokenTrainingResult, json: Bool) {
    let summary = TokenSummary(
        run: run, exactMatch: result.evaluation.exactMatch, meanReward: result.evaluation.meanReward,
        steps: result.steps, completions: result.completions, wallSeconds: result.wallSeconds,
        samplingSeconds: result.samplingSeconds, updateSeconds: result.updateSeconds)
    if json { JSONOutput.print(summary); return }
    print(String(
        format: "%@: greedy exact match %.1f%%, mean reward %.3f on %d held-out prompts "
            + "(%d steps, %d completions, %.1f s)",
        run, 100 * summary.exactMatch, summary.meanReward, result.evaluation.prompts, summary.steps,
        summary.completions, summary.wallSeconds))
    print("next: policylab inspect \(run)   ·   policylab sample \(run) --prompt …")
}
