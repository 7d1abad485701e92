import Foundation
import Testing
@testable import Objectives
import TestSupport

/// Every case of `Fixtures/ppo_cleanrl.json` (CleanRL's ppo.py run verbatim) and `ppo_trl.json`
/// (TRL 1.9's PPOTrainer code run verbatim), Double path, 1e-9 relative (2e-7 for float32 metrics).
@Suite struct PPOParityTests {
    @Test func cleanRLEveryCase() throws {
        let file = try JSON.load("ppo_cleanrl.json", testTarget: "ObjectivesTests")
        #expect(file["cases"]!.array.count == 4)
        for testCase in file["cases"]!.array {
            let name = testCase["name"]!.string!
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            let environments = Int(params["num_envs"]!.double!)
            var c = FixtureComparison(context: "cleanrl \(name)")
            // The objective's inputs, derived here as a trainer derives them from its policy: rollout-time
            // log-probs of the stored logits (Categorical.log_prob). These are the test's own arithmetic, so
            // they are not compared with the fixture here; AutogradTests' `CategoricalReferenceTests`
            // compares PolicyLab's log-softmax and entropy with these fixture fields.
            let actions = inputs["actions"]!.doubles.map { Int($0) }
            let oldLogits = inputs["old_logits"]!.doubles, newLogits = inputs["new_logits"]!.doubles
            let logprobs = (0..<actions.count).map {
                logSoftmaxRow(Array(oldLogits[($0 * 2)..<($0 * 2 + 2)]))[actions[$0]]
            }
            let values = inputs["old_values"]!.doubles
            let (advantages, returns) = generalizedAdvantages(
                rewards: inputs["rewards"]!.doubles, values: values, dones: inputs["dones"]!.doubles,
                nextValue: inputs["next_value"]!.doubles, nextDone: inputs["next_done"]!.doubles,
                environments: environments,
                gamma: params["gamma"]!.double!, lambda: params["gae_lambda"]!.double!)
            c.expect("advantages", advantages, outputs["advantages"])
            c.expect("returns", returns, outputs["returns"])
            c.expect("b_advantages", advantages, outputs["b_advantages"])
            c.expect("b_returns", returns, outputs["b_returns"])

            let minibatch = inputs["mb_inds"]!.doubles.map { Int($0) }
            let newLogProbabilities = minibatch.map {
                logSoftmaxRow(Array(newLogits[($0 * 2)..<($0 * 2 + 2)]))[actions[$0]]
            }
            let entropies = minibatch.map { i -> Double in
                let l = logSoftmaxRow(Array(newLogits[(i * 2)..<(i * 2 + 2)]))
                return -l.reduce(0) { $0 + exp($1) * $1 }
            }
            let newValues = minibatch.map { inputs["new_values"]!.doubles[$0] }
            let config = PPOConfig(
                clipCoefficient: params["clip_coef"]!.double!, clipValueLoss: params["clip_vloss"]!.bool!,
                normalizeAdvantages: params["norm_adv"]!.bool!, entropyCoefficient: params["ent_coef"]!.double!,
                valueCoefficient: params["vf_coef"]!.double!)
            let result = ppoLoss(
                config: config, newLogProbabilities: newLogProbabilities,
                oldLogProbabilities: minibatch.map { logprobs[$0] },
                advantages: minibatch.map { advantages[$0] }, returns: minibatch.map { returns[$0] },
                oldValues: minibatch.map { values[$0] }, newValues: newValues, entropies: entropies)
            let mb = outputs["minibatch"]!
            c.expect("logratio", result.logRatio, mb["logratio"])
            c.expect("ratio", result.ratio, mb["ratio"])
            c.expect("mb_advantages", result.advantages, mb["mb_advantages"])
            c.expect("pg_loss1", result.policyLossUnclipped, mb["pg_loss1"])
            c.expect("pg_loss2", result.policyLossClipped, mb["pg_loss2"])
            c.expect("pg_loss", result.policyLoss, mb["pg_loss"])
            c.expect("v_loss", result.valueLoss, mb["v_loss"])
            c.expect("entropy_loss", result.entropyLoss, mb["entropy_loss"])
            c.expect("loss", result.loss, mb["loss"])
            c.expect("old_approx_kl", result.oldApproximateKL, mb["old_approx_kl"])
            c.expect("approx_kl", result.approximateKL, mb["approx_kl"])
            c.expect("clipfrac", result.clipFraction, mb["clipfrac"], relative: 2e-7)
            var checkedMinibatch: Set<String> = [
                "logratio", "ratio", "mb_advantages", "pg_loss1", "pg_loss2", "pg_loss", "v_loss", "entropy_loss",
                "loss", "old_approx_kl", "approx_kl", "clipfrac",
            ]
            if config.clipValueLoss {
                c.expect("v_loss_unclipped", result.valueLossUnclipped, mb["v_loss_unclipped"])
                c.expect("v_clipped", result.valueClipped, mb["v_clipped"])
                c.expect("v_loss_clipped", result.valueLossClipped, mb["v_loss_clipped"])
                checkedMinibatch.formUnion(["v_loss_unclipped", "v_clipped", "v_loss_clipped"])
            }
            // Inputs echoed by the fixture, or the test's own arithmetic on them (see above): not PolicyLab outputs.
            expectAllChecked(
                mb, checked: checkedMinibatch, notCompared: ["newlogprob", "entropy", "newvalue", "v_loss_max"],
                context: "cleanrl \(name) minibatch")
            let variance = explainedVariance(returns: returns, values: values)
            c.expect("explained_variance", variance, outputs["explained_variance"])
            expectAllChecked(
                outputs,
                checked: ["advantages", "returns", "b_advantages", "b_returns", "minibatch", "explained_variance"],
                notCompared: ["logprobs", "values", "next_value"], context: "cleanrl \(name)")
        }
    }

    @Test func trlTokenPPOEveryCase() throws {
        let file = try JSON.load("ppo_trl.json", testTarget: "ObjectivesTests")
        #expect(file["cases"]!.array.count == 4)
        for testCase in file["cases"]!.array {
            let name = testCase["name"]!.string!
            let params = testCase["params"]!, inputs = testCase["inputs"]!, outputs = testCase["outputs"]!
            var config = TokenPPOConfig()
            config.klCoefficient = params["kl_coef"]!.double!
            config.klEstimator = TokenPPOConfig.KLEstimator(rawValue: params["kl_estimator"]!.string!)!
            config.whitenRewards = params["whiten_rewards"]!.bool!
            config.gamma = params["gamma"]!.double!
            config.lambda = params["lam"]!.double!
            config.clipRange = params["cliprange"]!.double!
            config.valueClipRange = params["cliprange_value"]!.double!
            config.valueCoefficient = params["vf_coef"]!.double!
            config.temperature = params["temperature"]!.double!
            config.missingEOSPenalty = params["missing_eos_penalty"]!.double
            try config.validate()
            let (rows, tokens) = inputs["postprocessed_responses"]!.shape2
            let responses = inputs["postprocessed_responses"]!.doubles.map { Int($0) }
            let rollout = tokenPPORollout(
                config: config, responses: responses, rows: rows, tokens: tokens,
                padID: Int(inputs["pad_token_id"]!.double!),
                eosID: Int(inputs["eos_token_id"]!.double!), logProbabilities: inputs["logprobs"]!.doubles,
                referenceLogProbabilities: inputs["ref_logprobs"]!.doubles, values: inputs["values"]!.doubles,
                scores: inputs["scores"]!.doubles)
            var c = FixtureComparison(context: "trl-ppo \(name)")
            c.expect("sequence_lengths", rollout.sequenceLengths.map(Double.init), outputs["sequence_lengths"])
            c.expect("padding_mask", rollout.paddingMask, outputs["padding_mask"])
            c.expect("padding_mask_p1", rollout.paddingMaskPlusOne, outputs["padding_mask_p1"])
            c.expect("logprobs_masked", rollout.logProbabilities, outputs["logprobs_masked"])
            c.expect("ref_logprobs_masked", rollout.referenceLogProbabilities, outputs["ref_logprobs_masked"])
            c.expect("values_masked", rollout.values, outputs["values_masked"])
            c.expect("kl", rollout.kl, outputs["kl"])
            c.expect("non_score_reward", rollout.nonScoreReward, outputs["non_score_reward"])
            c.expect("score_index", rollout.scoreIndex.map(Double.init), outputs["score_index"])
            c.expect("rewards", rollout.rewards, outputs["rewards"])
            c.expect("returns", rollout.returns, outputs["returns"])
            c.expect("advantages", rollout.advantages, outputs["advantages"])
            var checked: Set<String> = [
                "sequence_lengths", "padding_mask", "padding_mask_p1", "logprobs_masked", "ref_logprobs_masked",
                "values_masked", "kl", "non_score_reward", "score_index", "rewards", "returns", "advantages",
                "micro_batch", "rollout_metrics",
            ]
            if let scores = outputs["scores"] {
                c.expect("scores", rollout.scores, scores)
                checked.insert("scores")
            }
            for key in outputs["rollout_metrics"]!.keys {
                c.expect("rollout_metrics/\(key)", rollout.statistics[key] ?? .nan, outputs["rollout_metrics"]![key])
            }

            // The micro-batch: new log-probs of the temperature-scaled logits (the test's own arithmetic, an
            // input of the objective, like the entropies: not compared here), then the losses.
            let rowIndices = inputs["micro_batch_inds"]!.doubles.map { Int($0) }
            let logits = inputs["new_logits"]!.doubles
            let vocabulary = logits.count / (rows * tokens)
            var newLogProbabilities: [Double] = [], entropies: [Double] = []
            for i in rowIndices {
                for t in 0..<tokens {
                    let k = i * tokens + t
                    let row = logits[(k * vocabulary)..<((k + 1) * vocabulary)]
                    let scaled = row.map { $0 / (config.temperature + 1e-7) }
                    let logp = logSoftmaxRow(scaled)
                    newLogProbabilities.append(logp[responses[k]])
                    entropies.append(-logp.reduce(0) { $0 + exp($1) * $1 })
                }
            }
            let newValues = rowIndices.flatMap { i in inputs["new_values"]!.doubles[(i * tokens)..<((i + 1) * tokens)] }
            let loss = tokenPPOLoss(
                config: config, rollout: rollout, rowIndices: rowIndices, newLogProbabilities: newLogProbabilities,
                newValues: newValues)
            let mb = outputs["micro_batch"]!
            c.expect("new_logprobs", loss.newLogProbabilities, mb["new_logprobs"])
            c.expect("vpred", loss.predictedValues, mb["vpred"])
            c.expect("vpredclipped", loss.clippedValues, mb["vpredclipped"])
            c.expect("vf_losses1", loss.valueLosses, mb["vf_losses1"])
            c.expect("vf_losses2", loss.clippedValueLosses, mb["vf_losses2"])
            c.expect("vf_loss", loss.valueLoss, mb["vf_loss"])
            c.expect("vf_clipfrac", loss.statistics["val/clipfrac_avg"]!, mb["vf_clipfrac"], relative: 2e-7)
            c.expect("ratio", loss.ratio, mb["ratio"])
            c.expect("pg_losses", loss.policyLosses, mb["pg_losses"])
            c.expect("pg_losses2", loss.clippedPolicyLosses, mb["pg_losses2"])
            c.expect("pg_loss", loss.policyLoss, mb["pg_loss"])
            c.expect("pg_clipfrac", loss.statistics["policy/clipfrac_avg"]!, mb["pg_clipfrac"], relative: 2e-7)
            c.expect("loss", loss.loss, mb["loss"])
            c.expect("approxkl", loss.statistics["policy/approxkl_avg"]!, mb["approxkl"])
            expectAllChecked(
                mb,
                checked: ["new_logprobs", "vpred", "vpredclipped", "vf_losses1", "vf_losses2", "vf_loss", "vf_clipfrac",
                          "ratio", "pg_losses", "pg_losses2", "pg_loss", "pg_clipfrac", "loss", "approxkl"],
                notCompared: ["entropy"], context: "trl-ppo \(name) micro-batch")
            expectAllChecked(outputs, checked: checked, context: "trl-ppo \(name)")
        }
    }
}

/// log-softmax of one row of logits, in Double: how a trainer would turn the fixture's logits into the
/// objective's log-prob inputs.
private func logSoftmaxRow(_ logits: [Double]) -> [Double] {
    let m = logits.max() ?? 0
    let logZ = m + log(logits.reduce(0) { $0 + exp($1 - m) })
    return logits.map { $0 - logZ }
}
