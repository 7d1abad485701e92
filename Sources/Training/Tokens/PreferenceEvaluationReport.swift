import Foundation
import Policies

/// The evaluation step DPO and KTO share, at every `evaluationInterval` and at the last step: the held-out
/// accuracy of the implicit reward (under the trainer's own metric name), the greedy evaluation on the task's
/// held-out prompts when there is one (its metrics and samples), the progress line and the checkpoint (with
/// the resume state: the trainer's `progress` and its optimizer's).
struct PreferenceEvaluationReport {
    /// The accuracy's metric name (`eval/preference_accuracy`, `eval/label_accuracy`) and its words in the
    /// progress line ("preference", "label").
    let metricName: String
    let progressWord: String

    /// Emits the step's evaluation events and returns the greedy evaluation, if any.
    func emit(
        step: Int, steps: Int, samplesSeen: Int, loss: Double, accuracy: Double, policy: TransformerPolicy,
        evaluator: TokenEvaluator?, start: ContinuousClock.Instant, events: TrainingEventSink,
        progress: BatchTrainingProgress, optimizer: TokenOptimizer
    ) throws -> TokenEvaluation? {
        var values = [metricName: accuracy]
        var evaluation: TokenEvaluation?
        if let evaluator {
            let (result, samples) = try evaluator.evaluate(policy)
            values.merge(result.metrics) { _, new in new }
            evaluation = result
            try events(.samples(step: step, samples))
        }
        try events(.metrics(step: step, samplesSeen: samplesSeen, values: values))
        let greedy = evaluation.map { String(format: "  greedy reward %.3f", $0.meanReward) } ?? ""
        try events(.progress(String(
            format: "step %d/%d  loss %.4f  held-out %@ accuracy %.1f%%%@  (%.1f s)", step, steps, loss,
            progressWord, 100 * accuracy, greedy, start.secondsUntilNow)))
        try events(try progress.checkpoint(of: policy, optimizer: optimizer))
        return evaluation
    }
}
