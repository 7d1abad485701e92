import Autograd
import Foundation
import NN
import Objectives
import Policies

/// The update half of `TokenRLTrainer`: one GRPO or RLOO step, or K PPO epochs, on a generation batch.
extension TokenRLTrainer {
    struct UpdateResult {
        var loss: Double
        var statistics: [String: Double]
        var gradientNorm: Float
    }

    func updatePolicy(prompts: [[Int]], completions: [[Int]], rewards: [Double], step: Int) throws -> UpdateResult {
        switch config.algorithm {
        case .grpo: return try grpoUpdate(prompts: prompts, completions: completions, rewards: rewards, step: step)
        case .rloo: return try rlooUpdate(prompts: prompts, completions: completions, rewards: rewards, step: step)
        case .ppo: return try ppoUpdate(prompts: prompts, completions: completions, rewards: rewards, step: step)
        }
    }

    /// Applies `gradient` (∂loss/∂tensor) through the tape, clips and steps.
    func applyGradient(_ terms: [(Tensor, [Double])], step: Int) throws -> Float {
        for parameter in trainableParameters { parameter.zeroGrad() }
        ControlAgent.surrogate(terms).backward()
        let norm = clipGradientNorm(trainableParameters, maximumNorm: config.gradientClip)
        guard norm.isFinite else { throw TrainingError.diverged(step: step, quantity: "the gradient norm") }
        optimizer.step()
        return norm
    }

    private func referenceLogProbabilities(_ padded: PaddedSequences) -> [Double]? {
        reference.map { r in
            Tensor.withoutGradients { groupedLogProbabilities(r, padded).data.map(Double.init) }
        }
    }

    /// Next-token log-probs (B, T−1) of G completions per prompt, the prompt run once per group.
    private func groupedLogProbabilities(_ model: TransformerPolicy, _ padded: PaddedSequences) -> Tensor {
        model.nextTokenLogProbabilities(tokens: padded.tokens, batch: padded.rows, time: padded.time, promptLengths: padded.promptLengths,
                                        groupSize: config.objective.groupSize, temperature: config.temperature)
    }

    /// μ = 1: one step with π_old = π_θ (detached). μ > 1: μ steps on the same generation batch, the
    /// ratio π_θ/π_old taken against the log-probs of the first pass and clipped to [1 − ε_low, 1 + ε_high].
    func grpoUpdate(prompts: [[Int]], completions: [[Int]], rewards: [Double], step: Int) throws -> UpdateResult {
        let advantages = grpoAdvantages(rewards: rewards, groupSize: config.objective.groupSize, scaling: config.objective.scaleRewards)
        let padded = PaddedSequences(prompts: prompts, completions: completions, padID: codec.vocabulary.padID)
        let reference = config.objective.beta > 0 ? referenceLogProbabilities(padded) : nil
        var old: [Double]?
        var result: UpdateResult?
        for _ in 0..<config.objective.iterations {
            let logProbabilities = groupedLogProbabilities(policy, padded)
            let current = logProbabilities.data.map(Double.init)
            if config.objective.iterations > 1 && old == nil { old = current }
            let batch = TokenBatch(rows: padded.rows, tokens: padded.time - 1, mask: padded.completionMask, logProbabilities: current,
                                   oldLogProbabilities: old, referenceLogProbabilities: reference)
            let loss = grpoLoss(config: config.objective, batch: batch, advantages: advantages.advantages, generationTokens: Int(padded.completionMask.reduce(0, +)))
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the GRPO loss") }
            let norm = try applyGradient([(logProbabilities, loss.logProbabilityGradient)], step: step)
            result = UpdateResult(loss: loss.loss, statistics: loss.statistics.values, gradientNorm: norm)
        }
        return result!
    }

    func rlooUpdate(prompts: [[Int]], completions: [[Int]], rewards: [Double], step: Int) throws -> UpdateResult {
        var rloo = config.rloo
        rloo.groupSize = config.objective.groupSize
        let padded = PaddedSequences(prompts: prompts, completions: completions, padID: codec.vocabulary.padID)
        let logProbabilities = groupedLogProbabilities(policy, padded)
        let current = logProbabilities.data.map(Double.init)
        // μ = 1: the generation-time log-probs are the current ones (held constant).
        let batch = TokenBatch(rows: padded.rows, tokens: padded.time - 1, mask: padded.completionMask, logProbabilities: current,
                               oldLogProbabilities: current, referenceLogProbabilities: rloo.beta > 0 ? referenceLogProbabilities(padded) : nil)
        let advantages = rlooAdvantages(config: rloo, rewards: rewards, batch: batch)
        let loss = rlooLoss(config: rloo, batch: batch, advantages: advantages.advantages)
        guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the RLOO loss") }
        let norm = try applyGradient([(logProbabilities, loss.logProbabilityGradient)], step: step)
        var statistics = loss.statistics.values
        statistics["sequence_kl"] = mean(advantages.sequenceKL)
        return UpdateResult(loss: loss.loss, statistics: statistics, gradientNorm: norm)
    }

    /// Next-token log-probs (B, T−1) of the policy and values (B, T) of the value network (or of the
    /// policy's value head).
    private func logProbabilitiesAndValues(tokens: [Int], rows: Int, time: Int) -> (Tensor, Tensor) {
        guard let valueModel else {
            return policy.nextTokenLogProbabilitiesAndValues(tokens: tokens, batch: rows, time: time, temperature: config.temperature)
        }
        let logp = policy.nextTokenLogProbabilities(tokens: tokens, batch: rows, time: time, temperature: config.temperature)
        return (logp, valueModel.forward(tokens: tokens, batch: rows, time: time).values)
    }

    /// TRL 1.9's PPO: responses padded to `maxNewTokens`, values of the state before each token, KL to the
    /// reference in the per-token reward, score after EOS, GAE, then K epochs on the whole batch.
    func ppoUpdate(prompts: [[Int]], completions: [[Int]], rewards: [Double], step: Int) throws -> UpdateResult {
        let rows = prompts.count, width = config.maxNewTokens, pad = codec.vocabulary.padID
        let responses = completions.map { Array($0.prefix(width)) + [Int](repeating: pad, count: max(0, width - $0.count)) }
        let time = (prompts.map(\.count).max() ?? 1) + width
        var tokens = [Int](repeating: pad, count: rows * time)
        for b in 0..<rows { for (t, token) in (prompts[b] + responses[b]).enumerated() { tokens[b * time + t] = token } }
        /// Response token t of row b is predicted at position promptLength − 1 + t.
        func gather(_ full: [Float], stride: Int) -> [Double] {
            var out = [Double](repeating: 0, count: rows * width)
            for b in 0..<rows { for t in 0..<width { out[b * width + t] = Double(full[b * stride + prompts[b].count - 1 + t]) } }
            return out
        }
        let (rolloutLogp, rolloutValues) = Tensor.withoutGradients { () -> ([Double], [Double]) in
            let (logp, values) = logProbabilitiesAndValues(tokens: tokens, rows: rows, time: time)
            return (gather(logp.data, stride: time - 1), gather(values.data, stride: time))
        }
        let referenceLogp = Tensor.withoutGradients {
            gather(reference!.nextTokenLogProbabilities(tokens: tokens, batch: rows, time: time, temperature: config.temperature).data, stride: time - 1)
        }
        let rollout = tokenPPORollout(config: config.ppo, responses: responses.flatMap { $0 }, rows: rows, tokens: width, padID: pad, eosID: codec.vocabulary.eosID,
                                      logProbabilities: rolloutLogp, referenceLogProbabilities: referenceLogp, values: rolloutValues, scores: rewards)
        var last: TokenPPOLoss?
        var norm: Float = 0
        // Index maps from the (B, T) layouts to (B, width).
        var logpIndex = [Int](), valueIndex = [Int]()
        for b in 0..<rows { for t in 0..<width { logpIndex.append(b * (time - 1) + prompts[b].count - 1 + t); valueIndex.append(b * time + prompts[b].count - 1 + t) } }
        for _ in 0..<config.ppoEpochs {
            let (logp, values) = logProbabilitiesAndValues(tokens: tokens, rows: rows, time: time)
            let loss = tokenPPOLoss(config: config.ppo, rollout: rollout, rowIndices: Array(0..<rows),
                                    newLogProbabilities: logpIndex.map { Double(logp.data[$0]) }, newValues: valueIndex.map { Double(values.data[$0]) })
            guard loss.loss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the PPO loss") }
            var logpGradient = [Double](repeating: 0, count: logp.count), valueGradient = [Double](repeating: 0, count: values.count)
            for (k, i) in logpIndex.enumerated() { logpGradient[i] = loss.logProbabilityGradient[k] }
            for (k, i) in valueIndex.enumerated() { valueGradient[i] = loss.valueGradient[k] }
            norm = try applyGradient([(logp, logpGradient), (values, valueGradient)], step: step)
            last = loss
        }
        var statistics = rollout.statistics.values.merging(last!.statistics.values) { a, _ in a }
        statistics["kl"] = rollout.statistics["objective/kl"]
        return UpdateResult(loss: last!.loss, statistics: statistics, gradientNorm: norm)
    }
}
