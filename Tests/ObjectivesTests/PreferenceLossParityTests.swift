import Foundation
import Testing
@testable import Objectives
import TestSupport

/// Every case of `Fixtures/preference_losses.json` (TRL 1.16's own outputs, made by
/// `Fixtures/make_preference_fixtures.py`) against PolicyLab's preference objectives: DPO's loss-type lists
/// (`sigmoid_norm`, `sft`, weights), KTO, CPO / SimPO and ORPO. 1e-9 relative, except TRL's float32 values
/// (`rewards/accuracies`, and everything ORPO's `odds_ratio_loss` computes after its `.float()` cast).
/// Each objective's gradient is checked against central finite differences of its own loss.
@Suite struct PreferenceLossParityTests {
    static let cases: [JSON] = {
        guard let file = try? JSON.load("preference_losses.json", testTarget: "ObjectivesTests") else { return [] }
        return file["cases"]!.array
    }()

    func cases(_ kind: String) -> [JSON] { Self.cases.filter { $0["kind"]!.string == kind } }

    /// Summed log-probs and token counts of ragged per-token lists (the inputs TRL sums itself).
    func sums(_ rows: JSON?) -> (sums: [Double], tokens: [Double]) {
        let lists = rows!.array.map(\.doubles)
        return (lists.map { $0.reduce(0, +) }, lists.map { Double($0.count) })
    }

    func compareMetrics(
        _ c: inout FixtureComparison, _ statistics: ObjectiveStatistics, _ reference: JSON?,
        float32: Set<String> = ["rewards/accuracies"], relative32: Double = 2e-7
    ) {
        for key in reference?.keys ?? [] {
            guard let value = statistics[key] else {
                Issue.record("\(c.context): metric \(key) not produced")
                continue
            }
            c.expect("metrics/\(key)", value, reference?[key], relative: float32.contains(key) ? relative32 : 1e-9)
        }
    }

    @Test func theFixtureHoldsEveryLoss() {
        #expect(Self.cases.count == 20)
        #expect(cases("dpo").count == 6 && cases("kto").count == 6 && cases("cpo").count == 6)
        #expect(cases("orpo").count == 2)
    }

    @Test func dpoLossTypeListsEveryCase() throws {
        for testCase in cases("dpo") {
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let types = params["loss_type"]!.array.map { DPOLossType(rawValue: $0.string!)! }
            let weights = params["loss_weights"]!.isNull ? nil : params["loss_weights"]!.doubles
            let config = DPOConfig(
                beta: params["beta"]!.double!, lossTypes: types, lossWeights: weights,
                labelSmoothing: params["label_smoothing"]!.double!)
            try config.validate()
            let chosen = sums(inputs["chosen_token_logps"]), rejected = sums(inputs["rejected_token_logps"])
            let x = PreferenceLogProbabilities(
                policyChosen: inputs["policy_chosen_logps"]!.doubles,
                policyRejected: inputs["policy_rejected_logps"]!.doubles,
                referenceChosen: inputs["reference_chosen_logps"]!.doubles,
                referenceRejected: inputs["reference_rejected_logps"]!.doubles,
                chosenTokens: chosen.tokens, rejectedTokens: rejected.tokens)
            let result = dpoLoss(config: config, x)
            var c = FixtureComparison(context: "dpo \(testCase["name"]!.string!)")
            c.expect("loss", result.loss, outputs["loss"])
            compareMetrics(&c, result.statistics, outputs["metrics"])
            expectAllChecked(outputs, checked: ["loss", "metrics"], context: c.context)
            expectGradient(c.context, x.policyChosen, result.chosenGradient) {
                var y = x
                y.policyChosen = $0
                return dpoLoss(config: config, y).loss
            }
            expectGradient(c.context, x.policyRejected, result.rejectedGradient) {
                var y = x
                y.policyRejected = $0
                return dpoLoss(config: config, y).loss
            }
        }
    }

    @Test func ktoEveryCase() throws {
        for testCase in cases("kto") {
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let config = KTOConfig(
                beta: params["beta"]!.double!, desirableWeight: params["desirable_weight"]!.double!,
                undesirableWeight: params["undesirable_weight"]!.double!,
                lossType: KTOLossType(rawValue: params["loss_type"]!.string!)!)
            try config.validate()
            let x = KTOLogProbabilities(
                policy: inputs["policy_logps"]!.doubles, reference: inputs["reference_logps"]!.doubles,
                labels: inputs["labels"]!.array.map { $0.bool! },
                policyMismatched: inputs["policy_kl_logps"]?.doubles ?? [],
                referenceMismatched: inputs["reference_kl_logps"]?.doubles ?? [])
            let result = ktoLoss(config: config, x)
            var c = FixtureComparison(context: "kto \(testCase["name"]!.string!)")
            c.expect("loss", result.loss, outputs["loss"])
            compareMetrics(&c, result.statistics, outputs["metrics"])
            // TRL logs exactly the per-class metrics a batch has: no more, no fewer.
            #expect(Set(result.statistics.values.keys) == Set(outputs["metrics"]!.keys), "\(c.context)")
            expectAllChecked(outputs, checked: ["loss", "metrics"], context: c.context)
            expectGradient(c.context, x.policy, result.gradient) {
                var y = x
                y.policy = $0
                return ktoLoss(config: config, y).loss
            }
        }
    }

    @Test func cpoAndSimPOEveryCase() throws {
        for testCase in cases("cpo") {
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let config = CPOConfig(
                beta: params["beta"]!.double!, lossType: CPOLossType(rawValue: params["loss_type"]!.string!)!,
                labelSmoothing: params["label_smoothing"]!.double!, simpoGamma: params["simpo_gamma"]!.double!,
                cpoAlpha: params["cpo_alpha"]!.double!)
            try config.validate()
            let chosen = sums(inputs["chosen_token_logps"]), rejected = sums(inputs["rejected_token_logps"])
            let x = PolicyPreferenceLogProbabilities(
                chosen: chosen.sums, rejected: rejected.sums, chosenTokens: chosen.tokens,
                rejectedTokens: rejected.tokens)
            let result = cpoLoss(config: config, x)
            var c = FixtureComparison(context: "cpo \(testCase["name"]!.string!)")
            c.expect("loss", result.loss, outputs["loss"])
            compareMetrics(&c, result.statistics, outputs["metrics"])
            expectAllChecked(outputs, checked: ["loss", "metrics"], context: c.context)
            expectGradient(c.context, x.chosen, result.chosenGradient) {
                var y = x
                y.chosen = $0
                return cpoLoss(config: config, y).loss
            }
            expectGradient(c.context, x.rejected, result.rejectedGradient) {
                var y = x
                y.rejected = $0
                return cpoLoss(config: config, y).loss
            }
        }
    }

    @Test func orpoEveryCase() throws {
        // Everything after TRL's `.float()` cast is float32: the odds ratio, the rewards and the loss's
        // odds-ratio half. The NLL and the log-prob means stay float64.
        let float32: Set<String> = [
            "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "log_odds_ratio",
            "log_odds_chosen",
        ]
        for testCase in cases("orpo") {
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let config = ORPOConfig(beta: params["beta"]!.double!)
            try config.validate()
            let chosen = sums(inputs["chosen_token_logps"]), rejected = sums(inputs["rejected_token_logps"])
            let prompt = sums(inputs["chosen_prompt_token_logps"])
            let x = PolicyPreferenceLogProbabilities(
                chosen: chosen.sums, rejected: rejected.sums, chosenTokens: chosen.tokens,
                rejectedTokens: rejected.tokens)
            let result = orpoLoss(
                config: config, x, chosenPromptLogProbabilities: prompt.sums, chosenPromptTokens: prompt.tokens)
            var c = FixtureComparison(context: "orpo \(testCase["name"]!.string!)")
            c.expect("loss", result.loss, outputs["loss"], relative: 1e-6)
            compareMetrics(&c, result.statistics, outputs["metrics"], float32: float32, relative32: 1e-5)
            expectAllChecked(outputs, checked: ["loss", "metrics"], context: c.context)
            expectGradient(c.context, x.chosen, result.chosenGradient) {
                var y = x
                y.chosen = $0
                return orpoLoss(config: config, y, chosenPromptLogProbabilities: prompt.sums,
                                chosenPromptTokens: prompt.tokens).loss
            }
            expectGradient(c.context, x.rejected, result.rejectedGradient) {
                var y = x
                y.rejected = $0
                return orpoLoss(config: config, y, chosenPromptLogProbabilities: prompt.sums,
                                chosenPromptTokens: prompt.tokens).loss
            }
            // The NLL's share of one prompt token: moving each of the B chosen prompts' sums by h moves the
            // loss by B·g·h, g the gradient of one prompt token's log-prob.
            let h = 1e-6
            func loss(_ shift: Double) -> Double {
                orpoLoss(config: config, x, chosenPromptLogProbabilities: prompt.sums.map { $0 + shift },
                         chosenPromptTokens: prompt.tokens).loss
            }
            let numeric = (loss(h) - loss(-h)) / (2 * h) / Double(prompt.sums.count)
            #expect(abs(numeric - result.chosenPromptTokenGradient) < 1e-7, "\(c.context): prompt-token gradient")
        }
    }

    /// ∂loss/∂x_i by central differences against the analytic gradient.
    func expectGradient(
        _ context: String, _ x: [Double], _ analytic: [Double], _ loss: ([Double]) -> Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let h = 1e-6
        for i in x.indices {
            var up = x, down = x
            up[i] += h
            down[i] -= h
            let numeric = (loss(up) - loss(down)) / (2 * h)
            #expect(abs(numeric - analytic[i]) <= 1e-6 * max(1, abs(numeric)),
                    "\(context): ∂loss/∂x[\(i)] analytic \(analytic[i]) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }
}
