import Autograd
import NN
import Objectives
import Policies
import Randomness
import Tasks

/// Direct Preference Optimization (Rafailov et al. 2023) and its family (IPO, hinge, robust; RPO's NLL
/// term) on preference pairs, with TRL's `DPOTrainer` semantics: sequence log-probs of the completion
/// tokens (EOS included), a frozen reference policy whose log-probs are computed once for every pair
/// (TRL `precompute_ref_log_probs=True`) or on every batch (TRL's default), and the DPO loss family of
/// `Objectives`: with h = β·((log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))), sigmoid
/// −log σ(h), and the others as `DPOLossType` documents.
///
/// The same trainer runs the reference-free preference losses (`referenceFree`): CPO and SimPO (TRL's
/// `CPOTrainer`) and ORPO (TRL's `ORPOTrainer`); then the reference run is only the starting policy and no
/// reference log-probs are computed.
///
/// Symbols: β the implicit reward's inverse temperature (`objective.beta`), ε the label smoothing of the
/// robust loss, α RPO's NLL weight.
public struct DPOTrainerConfig: Codable, Sendable, Equatable {
    /// The task whose held-out prompts and reward the greedy evaluation uses (nil: none, only the held-out
    /// preference accuracy).
    public var task: String?
    /// Seed of every random draw (the held-out split, the batches).
    public var seed: UInt64 = 1
    /// β, the loss types (with their weights) and ε: TRL's `DPOConfig`.
    public var objective = DPOConfig()
    /// A reference-free loss instead of `objective` (nil: the DPO family).
    public var referenceFree: ReferenceFreePreferenceObjective?
    /// α of RPO (Pang et al. 2024; TRL `rpo_alpha`): adds α·NLL of the chosen completions (mean over their
    /// tokens), which keeps DPO from lowering the likelihood of the chosen answers. 0: plain DPO.
    public var rpoAlpha = 0.0
    /// Update steps.
    public var steps = 300
    /// Pairs per step.
    public var batchSize = 64
    /// AdamW's base learning rate, decayed linearly to 0 over the run (no weight decay).
    public var learningRate = 1e-4
    /// Global gradient-norm clip.
    public var maxGradientNorm = 1.0
    /// Fraction of pairs held out to measure preference accuracy.
    public var heldOutFraction = 0.1
    /// Evaluate (and checkpoint) every this many steps (0: only at the end).
    public var evaluationInterval = 100
    /// Held-out task prompts for the greedy evaluation (when `task` is set).
    public var evaluationPrompts = 256
    /// Maximum new tokens of the greedy evaluation.
    public var maxNewTokens = 8
    /// Compute the reference's log-probs once for every pair (true) or run the reference on every batch.
    public var precomputeReference = true

    public init(task: String?) { self.task = task }

    public func validate() throws {
        try objective.validate()
        switch referenceFree {
        case .cpo(let config): try config.validate()
        case .orpo(let config): try config.validate()
        case nil: break
        }
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(steps > 0 && batchSize > 0, "--steps and --batch-size must be positive")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require(heldOutFraction >= 0 && heldOutFraction < 1, "the held-out fraction must be in [0, 1)")
        try require(rpoAlpha >= 0 && rpoAlpha.isFinite, "--rpo-alpha must be ≥ 0")
    }
}

/// The reference-free preference losses the DPO trainer runs instead of the DPO family.
public enum ReferenceFreePreferenceObjective: Codable, Sendable, Equatable {
    /// CPO, or SimPO as its `simpo` loss with α = 0 (`CPOConfig.simPO`).
    case cpo(CPOConfig)
    case orpo(ORPOConfig)

    /// The implicit reward of a completion: β·(log-prob, averaged over its tokens where the loss averages).
    func reward(logProbability: Double, tokens: Int) -> Double {
        switch self {
        case .cpo(let config):
            config.beta * (config.lossType.averagesLogProbabilities
                ? logProbability / Double(max(tokens, 1)) : logProbability)
        case .orpo(let config): config.beta * logProbability / Double(max(tokens, 1))
        }
    }
}

/// One preference pair as text.
public struct PreferenceExample: Sendable, Equatable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public init(prompt: String, chosen: String, rejected: String) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
    }
}

public struct DPOTrainingResult: Codable, Sendable, Equatable {
    /// Held-out preference accuracy: share of pairs with a positive implicit-reward margin.
    public var heldOutAccuracy: Double
    public var evaluation: TokenEvaluation?
    public var steps: Int
    public var pairs: Int
    public var wallSeconds: Double
}

public final class DPOTrainer {
    public let config: DPOTrainerConfig
    public let policy: TransformerPolicy
    /// π_ref, frozen.
    let reference: TransformerPolicy
    let codec = TokenTaskCodec()
    /// The greedy evaluation on the task's held-out prompts, when the pairs come from a task.
    let evaluator: TokenEvaluator?
    let optimizer: TokenOptimizer
    var generator: SeededGenerator
    /// Where a resumed run continues (nil: from the start).
    private var resumed: BatchTrainingProgress?
    let training: [EncodedPair]
    let heldOut: [EncodedPair]
    /// The evaluation step's events, shared with KTO (`PreferenceEvaluationReport`).
    static let evaluationReport = PreferenceEvaluationReport(
        metricName: "eval/preference_accuracy", progressWord: "preference")

    struct EncodedPair {
        var prompt: [Int]
        var chosen: [Int]
        var rejected: [Int]
        /// log π_ref of the chosen and rejected completions (set once, or per batch).
        var referenceChosen = 0.0
        var referenceRejected = 0.0
    }

    /// `reference`: the frozen reference; the policy starts from `initial` or a copy of the reference.
    public init(config: DPOTrainerConfig, pairs: [PreferenceExample], reference: TransformerPolicy,
                initial: TransformerPolicy? = nil) throws {
        try config.validate()
        guard reference.config.vocabularySize == codec.vocabulary.size else {
            throw TrainingError.invalidConfiguration(
                "the reference run's vocabulary has \(reference.config.vocabularySize) tokens, the tasks use "
                    + "\(codec.vocabulary.size) — use a reference trained on PolicyLab's tasks")
        }
        guard pairs.count >= 2 else {
            throw TrainingError.invalidConfiguration(
                "DPO needs at least 2 preference pairs — generate or import more")
        }
        self.config = config
        self.reference = reference
        evaluator = try config.task.map {
            TokenEvaluator(task: try TaskRegistry.task(named: $0), codec: TokenTaskCodec(),
                           promptCount: config.evaluationPrompts, seed: config.seed, maxNewTokens: config.maxNewTokens)
        }
        generator = SeededGenerator(seed: config.seed)
        policy = initial ?? reference.copy()
        optimizer = TokenOptimizer(
            parameters: policy.parameters, adam: .init(learningRate: Float(config.learningRate)),
            baseLearningRate: config.learningRate, schedule: .linear(totalSteps: config.steps),
            maximumGradientNorm: Float(config.maxGradientNorm), decayMask: policy.parameters.map { _ in false })
        let codec = self.codec
        var encoded = try codec.encodeRows(pairs) { codec, p -> EncodedPair in
            let prompt = try codec.encodePrompt(p.prompt)
            let pair = EncodedPair(prompt: prompt, chosen: try codec.encodeCompletion(p.chosen),
                                   rejected: try codec.encodeCompletion(p.rejected))
            guard prompt.count + max(pair.chosen.count, pair.rejected.count) <= reference.config.contextLength else {
                throw TrainingError.invalidConfiguration(
                    "a pair (prompt \(p.prompt)) is longer than the model's context of "
                        + "\(reference.config.contextLength) tokens")
            }
            return pair
        }
        var order = generator.permutation(encoded.count)
        let heldOutCount = min(encoded.count - 1, Int((Double(encoded.count) * config.heldOutFraction).rounded()))
        // Reference log-probs: always for the held-out pairs (preference accuracy); for the training pairs
        // once here when precomputing, else per batch in `train`.
        // A reference-free loss needs none.
        let needReference = config.referenceFree != nil ? []
            : config.precomputeReference ? order : Array(order.prefix(heldOutCount))
        for start in stride(from: 0, to: needReference.count, by: 256) {
            let chunk = Array(needReference[start..<min(needReference.count, start + 256)])
            let (chosen, rejected) = Self.sequenceLogProbabilities(reference, chunk.map { encoded[$0] },
                                                                   recordTape: false)
            for (k, i) in chunk.enumerated() {
                encoded[i].referenceChosen = Double(chosen.values[k])
                encoded[i].referenceRejected = Double(rejected.values[k])
            }
        }
        heldOut = order.prefix(heldOutCount).map { encoded[$0] }
        order.removeFirst(heldOutCount)
        training = order.map { encoded[$0] }
    }

    public func train(events: TrainingEventSink, shouldStop: () -> Bool = { false }) throws -> DPOTrainingResult {
        let start = ContinuousClock.now
        var seen = resumed?.samplesSeen ?? 0
        for step in BatchTrainingProgress.steps(after: resumed, through: config.steps) {
            if shouldStop() { throw TrainingError.interrupted(step: step - 1) }
            optimizer.scheduleLearningRate(step: step)
            var batch = (0..<min(config.batchSize, training.count)).map { _ in
                training[generator.nextInt(below: training.count)]
            }
            if !config.precomputeReference && config.referenceFree == nil {
                let (chosen, rejected) = Self.sequenceLogProbabilities(reference, batch, recordTape: false)
                for k in batch.indices {
                    batch[k].referenceChosen = Double(chosen.values[k])
                    batch[k].referenceRejected = Double(rejected.values[k])
                }
            }
            let batchLoss = lossAndGradients(batch)
            guard batchLoss.dpoLoss.isFinite else { throw TrainingError.diverged(step: step, quantity: "the DPO loss") }
            try optimizer.step(at: step)
            seen += batch.count
            try events(.metrics(step: step, samplesSeen: seen, values: batchLoss.metrics))

            let isLast = step == config.steps
            if isLast || (config.evaluationInterval > 0 && step % config.evaluationInterval == 0) {
                let accuracy = heldOutAccuracy()
                let evaluation = try Self.evaluationReport.emit(
                    step: step, steps: config.steps, samplesSeen: seen, loss: batchLoss.dpoLoss, accuracy: accuracy,
                    policy: policy, evaluator: evaluator, start: start, events: events,
                    progress: BatchTrainingProgress(step: step, samplesSeen: seen, generator: generator),
                    optimizer: optimizer)
                if isLast {
                    return DPOTrainingResult(heldOutAccuracy: accuracy, evaluation: evaluation, steps: step,
                                             pairs: seen, wallSeconds: start.secondsUntilNow)
                }
            }
        }
        // Only a run resumed from its last step's checkpoint gets here: its last evaluation, as the run's result.
        return DPOTrainingResult(
            heldOutAccuracy: heldOutAccuracy(), evaluation: try evaluator?.evaluate(policy).0, steps: config.steps,
            pairs: seen, wallSeconds: start.secondsUntilNow)
    }

    /// Continues from a checkpoint of a run of this config, rows and reference (`weights`, and `state`, its
    /// optimizer column): the weights, AdamW's t and moments, the generator of the batches and the counters.
    public func restore(weights: [UInt8], state: [UInt8]) throws {
        resumed = try BatchTrainingProgress.restore(weights: weights, state: state, model: policy, optimizer: optimizer,
                                                    generator: &generator)
    }

    /// The loss of one batch and what the trainer logs about it.
    struct BatchLoss {
        /// The DPO-family loss alone.
        var dpoLoss: Double
        /// The loss the gradients are of: the DPO loss + α·NLL of the chosen completions.
        var loss: Double
        /// The objective's statistics (`rewards/…`, `logps/…`), `loss` and, with α > 0, `nll_loss`.
        var metrics: [String: Double]
    }

    /// The loss of `batch` (reference log-probs already set) and ∂loss/∂θ, left in every parameter's `grad`:
    /// the objective's analytic gradients with respect to the sequence log-probs, spread over each row's
    /// completion tokens and carried onto the tape. `train` steps with exactly this; the finite-difference
    /// test checks it.
    func lossAndGradients(_ batch: [EncodedPair]) -> BatchLoss {
        if let referenceFree = config.referenceFree { return referenceFreeLossAndGradients(batch, referenceFree) }
        return Self.dpoLossAndGradients(policy: policy, batch: batch, objective: config.objective,
                                        rpoAlpha: config.rpoAlpha).batchLoss
    }

    /// The DPO-family loss of `batch` (reference log-probs already set) under `objective`, plus α·NLL of the
    /// chosen completions, and its gradient left in every parameter of `policy`: the step of `train dpo` and
    /// of online DPO (`OnlineDPOTrainer`), which hands it the pairs it sampled and ranked.
    /// `countsTokens` false gives every completion a length of 1, so that IPO's log-ratios are the summed
    /// ones, as TRL's `OnlineDPOTrainer` takes them (TRL's `DPOTrainer` averages them over the tokens).
    /// Also returns the objective's inputs (the sequence log-probs), for the caller's own statistics.
    static func dpoLossAndGradients(policy: TransformerPolicy, batch: [EncodedPair], objective: DPOConfig,
                                    rpoAlpha: Double = 0, countsTokens: Bool = true)
        -> (batchLoss: BatchLoss, inputs: PreferenceLogProbabilities) {
        let (chosen, rejected) = Self.sequenceLogProbabilities(policy, batch, recordTape: true)
        let inputs = PreferenceLogProbabilities(
            policyChosen: chosen.values.map(Double.init), policyRejected: rejected.values.map(Double.init),
            referenceChosen: batch.map(\.referenceChosen), referenceRejected: batch.map(\.referenceRejected),
            chosenTokens: batch.map { countsTokens ? Double($0.chosen.count) : 1 },
            rejectedTokens: batch.map { countsTokens ? Double($0.rejected.count) : 1 })
        let loss = dpoLoss(config: objective, inputs)
        guard loss.loss.isFinite else {
            return (BatchLoss(dpoLoss: loss.loss, loss: loss.loss, metrics: loss.statistics.values), inputs)
        }
        // ∂loss/∂(token log-prob) = ∂loss/∂(sequence log-prob) on the completion tokens of that row.
        let width = chosen.mask.count / (2 * batch.count)
        var gradient = [Float](repeating: 0, count: chosen.mask.count)
        for r in 0..<(2 * batch.count) {
            let g = r < batch.count ? loss.chosenGradient[r] : loss.rejectedGradient[r - batch.count]
            for j in 0..<width where chosen.mask[r * width + j] != 0 { gradient[r * width + j] = Float(g) }
        }
        var nll = 0.0
        if rpoAlpha > 0 {
            // α·mean(−log π) over the chosen completions' tokens.
            let chosenTokens = (0..<(batch.count * width)).filter { chosen.mask[$0] != 0 }
            let count = Double(max(chosenTokens.count, 1))
            for i in chosenTokens {
                nll -= Double(chosen.tokens!.data[i]) / count
                gradient[i] += Float(-rpoAlpha / count)
            }
        }
        policy.zeroGradients()
        chosen.tokens!.backward(gradient: gradient)
        var metrics = loss.statistics.values
        metrics["loss"] = loss.loss + rpoAlpha * nll
        if rpoAlpha > 0 { metrics["nll_loss"] = nll }
        return (BatchLoss(dpoLoss: loss.loss, loss: loss.loss + rpoAlpha * nll, metrics: metrics), inputs)
    }

    /// `lossAndGradients` for CPO / SimPO / ORPO: the objective's gradients with respect to the summed
    /// completion log-probs spread over the completion tokens, and ORPO's NLL gradient over the chosen rows'
    /// prompt tokens (TRL's ORPO NLL covers the prompt).
    func referenceFreeLossAndGradients(_ batch: [EncodedPair], _ objective: ReferenceFreePreferenceObjective)
        -> BatchLoss {
        let (chosen, rejected) = Self.sequenceLogProbabilities(policy, batch, recordTape: true)
        let inputs = PolicyPreferenceLogProbabilities(
            chosen: chosen.values.map(Double.init), rejected: rejected.values.map(Double.init),
            chosenTokens: batch.map { Double($0.chosen.count) },
            rejectedTokens: batch.map { Double($0.rejected.count) })
        let tokenLogProbabilities = chosen.tokens!
        let width = chosen.mask.count / (2 * batch.count)
        // Chosen row r's prompt tokens after the first are predicted at positions 0 ..< prompt length − 1.
        let promptPositions = batch.indices.map { r in (r * width)..<(r * width + batch[r].prompt.count - 1) }
        let loss: ReferenceFreePreferenceLoss
        switch objective {
        case .cpo(let config):
            loss = cpoLoss(config: config, inputs)
        case .orpo(let config):
            let promptSums = promptPositions.map { positions in
                positions.reduce(0.0) { $0 + Double(tokenLogProbabilities.data[$1]) }
            }
            loss = orpoLoss(config: config, inputs, chosenPromptLogProbabilities: promptSums,
                            chosenPromptTokens: batch.map { Double($0.prompt.count - 1) })
        }
        var metrics = loss.statistics.values
        metrics["loss"] = loss.loss
        guard loss.loss.isFinite else { return BatchLoss(dpoLoss: loss.loss, loss: loss.loss, metrics: metrics) }
        var gradient = [Float](repeating: 0, count: chosen.mask.count)
        for r in 0..<(2 * batch.count) {
            let g = r < batch.count ? loss.chosenGradient[r] : loss.rejectedGradient[r - batch.count]
            for j in 0..<width where chosen.mask[r * width + j] != 0 { gradient[r * width + j] = Float(g) }
        }
        if loss.chosenPromptTokenGradient != 0 {
            for positions in promptPositions {
                for j in positions { gradient[j] = Float(loss.chosenPromptTokenGradient) }
            }
        }
        policy.zeroGradients()
        tokenLogProbabilities.backward(gradient: gradient)
        return BatchLoss(dpoLoss: loss.loss, loss: loss.loss, metrics: metrics)
    }

    /// Sum of completion-token log-probs for chosen and rejected sequences of each pair; with the tape, the
    /// (2B, T−1) token log-prob tensor and the completion mask for the backward pass.
    static func sequenceLogProbabilities(_ policy: TransformerPolicy, _ pairs: [EncodedPair], recordTape: Bool)
        -> (chosen: (values: [Float], tokens: Tensor?, mask: [Double]),
            rejected: (values: [Float], tokens: Tensor?, mask: [Double])) {
        let sequences = PaddedSequences(prompts: pairs.map(\.prompt) + pairs.map(\.prompt),
                                        completions: pairs.map(\.chosen) + pairs.map(\.rejected), padID: 0)
        // Chosen and rejected share their prompt: the trunk runs them as groups of two (the rows of
        // `sequences` interleaved c₀ r₀ c₁ r₁ …), the prompt once per pair, then the rows go back to
        // chosen-then-rejected order.
        let b = pairs.count, time = sequences.time
        let interleavedRows = (0..<b).flatMap { [$0, b + $0] }
        let interleavedTokens = interleavedRows.flatMap { sequences.tokens[($0 * time)..<(($0 + 1) * time)] }
        let compute = {
            policy.nextTokenLogProbabilities(tokens: interleavedTokens, batch: 2 * b, time: time,
                                             promptLengths: interleavedRows.map { sequences.promptLengths[$0] },
                                             groupSize: 2)
                .gatherRows((0..<b).map { 2 * $0 } + (0..<b).map { 2 * $0 + 1 })
        }
        let logp = recordTape ? compute() : Tensor.withoutGradients(compute)
        let width = time - 1
        var sums = [Float](repeating: 0, count: 2 * b)
        for r in 0..<(2 * b) {
            for j in 0..<width where sequences.completionMask[r * width + j] != 0 {
                sums[r] += logp.data[r * width + j]
            }
        }
        return ((Array(sums[0..<b]), recordTape ? logp : nil, sequences.completionMask), (Array(sums[b...]), nil, []))
    }

    /// Share of held-out pairs whose implicit-reward margin is positive:
    /// (log π(y_w) − log π_ref(y_w)) > (log π(y_l) − log π_ref(y_l)); for a reference-free loss, its own
    /// reward β·π̄ of the chosen completion above the rejected one's.
    public func heldOutAccuracy() -> Double {
        guard !heldOut.isEmpty else { return .nan }
        var correct = 0
        for start in stride(from: 0, to: heldOut.count, by: 256) {
            let chunk = Array(heldOut[start..<min(heldOut.count, start + 256)])
            let (chosen, rejected) = Self.sequenceLogProbabilities(policy, chunk, recordTape: false)
            for (k, pair) in chunk.enumerated() {
                if let referenceFree = config.referenceFree {
                    let chosenReward = referenceFree.reward(
                        logProbability: Double(chosen.values[k]), tokens: pair.chosen.count)
                    let rejectedReward = referenceFree.reward(
                        logProbability: Double(rejected.values[k]), tokens: pair.rejected.count)
                    if chosenReward > rejectedReward { correct += 1 }
                    continue
                }
                let chosenMargin = Double(chosen.values[k]) - pair.referenceChosen
                let rejectedMargin = Double(rejected.values[k]) - pair.referenceRejected
                if chosenMargin > rejectedMargin { correct += 1 }
            }
        }
        return Double(correct) / Double(heldOut.count)
    }
}
