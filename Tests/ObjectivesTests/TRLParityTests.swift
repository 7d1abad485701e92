import Foundation
import Testing
@testable import Objectives
import TestSupport

/// Every case of `Fixtures/dpo.json`, `grpo.json` and `rloo.json` (TRL 1.16's own outputs) against
/// PolicyLab's objectives, Double path, 1e-9 relative (2e-7 for TRL's float32 metrics).
@Suite struct TRLParityTests {
    static let float32Metrics: Set<String> = [
        "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "clip_ratio/low_min",
        "clip_ratio/high_max", "cispo_clip_ratio",
    ]

    func compareMetrics(_ comparison: inout FixtureComparison, _ statistics: ObjectiveStatistics, _ reference: JSON?) {
        for key in reference?.keys ?? [] {
            guard let value = statistics[key] else {
                Issue.record("\(comparison.context): metric \(key) not produced")
                continue
            }
            let relative = Self.float32Metrics.contains(key) ? 2e-7 : 1e-9
            comparison.expect("metrics/\(key)", value, reference?[key], relative: relative)
        }
    }

    @Test func dpoEveryCase() throws {
        let file = try JSON.load("dpo.json", testTarget: "ObjectivesTests")
        #expect(file["cases"]!.array.count == 17)
        for testCase in file["cases"]!.array {
            let name = testCase["name"]!.string!
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            var config = DPOConfig()
            config.beta = params["beta"]!.double!
            config.lossType = DPOLossType(rawValue: params["loss_type"]!.string!)!
            config.labelSmoothing = params["label_smoothing"]!.double!
            let x = PreferenceLogProbabilities(
                policyChosen: inputs["policy_chosen_logps"]!.doubles,
                policyRejected: inputs["policy_rejected_logps"]!.doubles,
                referenceChosen: inputs["reference_chosen_logps"]!.doubles,
                referenceRejected: inputs["reference_rejected_logps"]!.doubles,
                chosenTokens: inputs["chosen_num_tokens"]!.doubles,
                rejectedTokens: inputs["rejected_num_tokens"]!.doubles)
            let result = dpoLoss(config: config, x)
            var c = FixtureComparison(context: "dpo \(name)")
            c.expect("per_pair_loss", result.perPairLoss, outputs["per_pair_loss"])
            c.expect("loss", result.loss, outputs["loss"])
            c.expect("chosen_rewards", result.chosenRewards, outputs["chosen_rewards"])
            c.expect("rejected_rewards", result.rejectedRewards, outputs["rejected_rewards"])
            // Margins and accuracies enter through the metrics (rewards/margins, rewards/accuracies).
            compareMetrics(&c, result.statistics, outputs["metrics"])
            // TRL's intermediate log-ratios (and IPO's per-token averages) are differences of the inputs that
            // `dpoLoss` does not return: only the test could compute them, so they are not compared.
            let intermediates: Set<String> = [
                "chosen_logratios", "rejected_logratios", "margins", "accuracies",
                "ipo_chosen_avg_logratio", "ipo_rejected_avg_logratio", "ipo_delta",
            ]
            expectAllChecked(
                outputs, checked: ["per_pair_loss", "loss", "chosen_rewards", "rejected_rewards", "metrics"],
                notCompared: intermediates, context: "dpo \(name)")
        }
    }

    func grpoConfig(_ params: JSON, lossType: GRPOLossType) -> GRPOConfig {
        var config = GRPOConfig()
        config.lossType = lossType
        config.scaleRewards = RewardScaling(rawValue: params["scale_rewards"]!.string!)!
        config.epsilonLow = params["epsilon"]!.double!
        config.epsilonHigh = params["epsilon_high"]!.double
        config.beta = params["beta"]!.double!
        config.importanceSamplingLevel = ImportanceSamplingLevel(
            rawValue: params["importance_sampling_level"]!.string!)!
        config.delta = params["delta"]!.double
        config.useBiasCorrectionKL = params["use_bias_correction_kl"]!.bool!
        config.maxCompletionLength = Int(params["max_completion_length"]!.double!)
        config.iterations = Int(params["num_iterations"]!.double!)
        if let v = params["sapo_temperature_pos"]?.double { config.sapoTemperaturePositive = v }
        if let v = params["sapo_temperature_neg"]?.double { config.sapoTemperatureNegative = v }
        if let v = params["vespo_k_pos"]?.double { config.vespoKPositive = v }
        if let v = params["vespo_lambda_pos"]?.double { config.vespoLambdaPositive = v }
        if let v = params["vespo_k_neg"]?.double { config.vespoKNegative = v }
        if let v = params["vespo_lambda_neg"]?.double { config.vespoLambdaNegative = v }
        return config
    }

    /// The token batch of `rows` (all rows when nil) of a GRPO/RLOO case.
    func tokenBatch(_ inputs: JSON, rows selected: [Int]? = nil, onPolicy: Bool = false) -> TokenBatch {
        let (rows, tokens) = inputs["completion_mask"]!.shape2
        let chosen = selected ?? Array(0..<rows)
        func pick(_ key: String) -> [Double] {
            let all = inputs[key]!.doubles
            return chosen.flatMap { all[($0 * tokens)..<(($0 + 1) * tokens)] }
        }
        return TokenBatch(
            rows: chosen.count, tokens: tokens, mask: pick("completion_mask"),
            logProbabilities: pick("per_token_logps"),
            oldLogProbabilities: onPolicy ? nil : pick("old_per_token_logps"),
            referenceLogProbabilities: pick("ref_per_token_logps"))
    }

    @Test func grpoEveryCase() throws {
        let file = try JSON.load("grpo.json", testTarget: "ObjectivesTests")
        #expect(file["cases"]!.array.count == 21)
        for testCase in file["cases"]!.array {
            let name = testCase["name"]!.string!
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let groupSize = Int(inputs["num_generations"]!.double!)
            let lossTypes = params["loss_types"]!.array.map { GRPOLossType(rawValue: $0.string!)! }
            var c = FixtureComparison(context: "grpo \(name)")
            let scaling = RewardScaling(rawValue: params["scale_rewards"]!.string!)!
            let advantages = grpoAdvantages(rewards: inputs["rewards"]!.doubles, groupSize: groupSize, scaling: scaling)
            c.expect("group_mean_rewards", advantages.groupMeans, outputs["group_mean_rewards"])
            c.expect("std_rewards", advantages.standardDeviations, outputs["std_rewards"])
            c.expect("advantages", advantages.advantages, outputs["advantages"])
            let fullBatch = tokenBatch(inputs, onPolicy: params["num_iterations"]!.double! == 1)
            // TRL's num_items_in_batch is the count of the inputs' completion tokens: an input, not compared.
            let generationTokens = Int(fullBatch.mask.reduce(0, +))
            var checked: Set<String> = ["group_mean_rewards", "std_rewards", "advantages"]
            var notCompared: Set<String> = ["num_items_in_batch"]

            if let microBatches = outputs["micro_batches"] {
                let gas = Int(params["gradient_accumulation_steps"]!.double!)
                let spg = Int(params["steps_per_generation"]!.double!)
                for (index, micro) in microBatches.array.enumerated() {
                    let bounds = micro["rows"]!.doubles.map { Int($0) }  // [start, end)
                    let rows = Array(bounds[0]..<bounds[1])
                    let batch = tokenBatch(inputs, rows: rows)
                    let localAdvantages = rows.map { advantages.advantages[$0] }
                    for lossType in lossTypes {
                        let result = grpoLoss(
                            config: grpoConfig(params, lossType: lossType), batch: batch, advantages: localAdvantages,
                            generationTokens: generationTokens, accumulationSteps: gas, stepsPerGeneration: spg)
                        let context = "micro_batches[\(index)]"
                        c.expect("\(context).loss.\(lossType.rawValue)", result.loss, micro["loss"]![lossType.rawValue])
                        if lossType == lossTypes[0] {
                            c.expect("\(context).per_token_loss", result.perTokenLoss, micro["per_token_loss"])
                            compareMetrics(&c, result.statistics, micro["metrics"])
                        }
                    }
                    expectAllChecked(
                        micro, checked: ["loss", "per_token_loss", "metrics"], notCompared: ["rows"],
                        context: "grpo \(name) micro-batch \(index)")
                }
                // The accumulated loss is the sum of the micro-batch losses compared above: the test's own sum.
                checked.insert("micro_batches")
                notCompared.insert("accumulated_loss")
            } else {
                for lossType in lossTypes {
                    let config = grpoConfig(params, lossType: lossType)
                    let result = grpoLoss(
                        config: config, batch: fullBatch, advantages: advantages.advantages,
                        generationTokens: generationTokens)
                    c.expect("loss.\(lossType.rawValue)", result.loss, outputs["loss"]![lossType.rawValue])
                    c.expect("coef_1", result.importanceRatio, outputs["coef_1"])
                    if let kl = result.perTokenKL { c.expect("per_token_kl", kl, outputs["per_token_kl"]) }
                    let specific = outputs["per_loss_type"]?[lossType.rawValue]
                    let perTokenLoss = specific?["per_token_loss"] ?? outputs["per_token_loss"]
                    c.expect("per_token_loss", result.perTokenLoss, perTokenLoss)
                    compareMetrics(&c, result.statistics, specific?["metrics"] ?? outputs["metrics"])
                    if let phi = specific?["phi_seq"] { c.expect("phi_seq", result.vespoWeights!, phi) }
                    if let specific {
                        expectAllChecked(
                            specific, checked: ["per_token_loss", "metrics", "phi_seq"],
                            context: "grpo \(name) \(lossType)")
                    }
                }
                checked.formUnion(["loss", "coef_1", "per_token_kl", "per_token_loss", "metrics", "per_loss_type"])
                #expect((outputs["per_token_kl"] != nil) == (params["beta"]!.double! != 0))
            }
            expectAllChecked(outputs, checked: checked, notCompared: notCompared, context: "grpo \(name)")
        }
    }

    @Test func rlooEveryCase() throws {
        let file = try JSON.load("rloo.json", testTarget: "ObjectivesTests")
        #expect(file["cases"]!.array.count == 5)
        for testCase in file["cases"]!.array {
            let name = testCase["name"]!.string!
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            var config = RLOOConfig()
            config.groupSize = Int(params["num_generations"]!.double!)
            config.beta = params["beta"]!.double!
            config.normalizeAdvantages = params["normalize_advantages"]!.bool!
            config.epsilonLow = params["epsilon"]!.double!
            config.epsilonHigh = params["epsilon_high"]!.double
            if let range = params["reward_clip_range"]?.doubles, range.count == 2 {
                config.rewardClipRange = range[0]...range[1]
            }
            try config.validate(batchRows: 8)
            let batch = tokenBatch(inputs)
            let advantages = rlooAdvantages(config: config, rewards: inputs["rewards"]!.doubles, batch: batch)
            let result = rlooLoss(config: config, batch: batch, advantages: advantages.advantages)
            var c = FixtureComparison(context: "rloo \(name)")
            if config.beta != 0 {
                c.expect("sequence_kl", advantages.sequenceKL, outputs["sequence_kl"])
            } else {
                // β = 0: the KL does not enter the rewards (checked below through penalized_rewards), and the
                // fixture does not list it.
                #expect(outputs["sequence_kl"] == nil, "rloo \(name): β = 0 but the fixture lists sequence_kl")
                #expect(advantages.sequenceKL.count == batch.rows, "rloo \(name): one sequence KL per row")
            }
            c.expect("penalized_rewards", advantages.penalizedRewards, outputs["penalized_rewards"])
            c.expect("baselines", advantages.baselines, outputs["baselines"])
            c.expect("advantages", advantages.advantages, outputs["advantages"])
            c.expect("old_logps", result.oldSequenceLogProbabilities, outputs["old_logps"])
            c.expect("logps", result.sequenceLogProbabilities, outputs["logps"])
            c.expect("coef_1", result.ratio, outputs["coef_1"])
            c.expect("per_sequence_loss", result.perSequenceLoss, outputs["per_sequence_loss"])
            c.expect("loss", result.loss, outputs["loss"])
            compareMetrics(&c, result.statistics, outputs["metrics"])
            expectAllChecked(
                outputs,
                checked: ["sequence_kl", "penalized_rewards", "baselines", "advantages", "old_logps", "logps", "coef_1",
                          "per_sequence_loss", "loss", "metrics"],
                context: "rloo \(name)")
        }
    }
}
