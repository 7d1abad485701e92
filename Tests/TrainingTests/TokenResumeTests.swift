import NN
import Policies
import Testing
@testable import Training

/// `train sft|dpo|kto|reward-model|token-ppo|online-dpo --resume`: each token trainer, interrupted before step 4
/// (its last checkpoint at step 2, step 3's rows logged after it), then resumed from that checkpoint by a trainer
/// just made from the same config and inputs, gives the metric rows and final weights of the run that was never
/// interrupted, to the bit (`ResumeTests` does PPO, GRPO and RLOO).
@Suite struct TokenResumeTests {
    /// Tiny settings: every test runs 5 steps (the RL trainers 4) with a checkpoint every 2.
    static let steps = 5, interval = 2

    func weights(_ models: [any Module]) -> [[UInt32]] {
        models.flatMap { $0.parameters.map { $0.data.map(\.bitPattern) } }
    }

    /// The whole run, and the run interrupted before step 4 and resumed from its checkpoint of step 2: the rows
    /// it kept (through step 2) and the resumed run's make the whole run's rows, and the weights end the same.
    func expectExactResume<Trainer: ResumableTokenTrainer>(
        models: (Trainer) -> [any Module], _ make: () throws -> Trainer
    ) throws {
        var whole = Record()
        let uninterrupted = try make()
        _ = try uninterrupted.train(events: { whole.record($0) }, shouldStop: { false })

        var first = Record()
        let stop = ResumeTests.StopAt(call: 4)
        #expect(throws: TrainingError.interrupted(step: 3)) {
            _ = try make().train(events: { first.record($0) }, shouldStop: { stop() })
        }
        let checkpoint = try #require(first.checkpoints.last)
        #expect(checkpoint.step == 2)
        let kept = first.rows.filter { Int($0.prefix { $0 != " " })! <= checkpoint.step }
        #expect(kept.count < first.rows.count, "step 3's rows, logged after the checkpoint, are left out")

        let resumed = try make()
        try resumed.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        var rest = Record()
        _ = try resumed.train(events: { rest.record($0) }, shouldStop: { false })
        #expect(!whole.rows.isEmpty && kept + rest.rows == whole.rows)
        #expect(rest.checkpoints.map(\.step) == whole.checkpoints.map(\.step).filter { $0 > 2 })
        #expect(weights(models(resumed)) == weights(models(uninterrupted)))
    }

    typealias Record = ResumeTests.Record

    @Test func sftResumesExactly() throws {
        var config = SFTTrainerConfig(task: "sort")
        (config.steps, config.batchSize, config.evaluationPrompts) = (Self.steps, 4, 4)
        config.evaluationInterval = Self.interval
        try expectExactResume(models: { [$0.policy] }) { try SFTTrainer(config: config) }

        // Resumed from its last step's checkpoint (killed before it was marked finished): no step is left, and
        // the result is the run's.
        var record = Record()
        let expected = try SFTTrainer(config: config).train(events: { record.record($0) })
        let finished = try #require(record.checkpoints.last)
        let again = try SFTTrainer(config: config)
        try again.restore(weights: finished.weights, state: try #require(finished.state))
        var nothing = Record()
        let result = try again.train(events: { nothing.record($0) })
        #expect(nothing.rows.isEmpty && result.evaluation == expected.evaluation)
        #expect(result.completions == expected.completions)
    }

    @Test func rewardModelResumesExactly() throws {
        var config = RewardModelTrainerConfig()
        (config.steps, config.batchSize, config.evaluationInterval) = (Self.steps, 4, Self.interval)
        let pairs = try PreferenceTrainerTests.sortPairs(24, seed: 3)
        try expectExactResume(models: { [$0.model] }) { try RewardModelTrainer(config: config, pairs: pairs) }
    }

    /// DPO with the reference's log-probs precomputed (made again by the resumed trainer) and RPO's NLL term;
    /// the resumed policy starts as a copy of the reference, not from the run's --init.
    @Test func dpoResumesExactly() throws {
        var config = DPOTrainerConfig(task: "sort")
        (config.steps, config.batchSize, config.evaluationPrompts) = (Self.steps, 4, 4)
        (config.evaluationInterval, config.rpoAlpha) = (Self.interval, 0.5)
        let pairs = try PreferenceTrainerTests.sortPairs(24, seed: 4)
        let (reference, initial) = PreferenceTrainerTests.twoPolicies(seed: 4)
        var made = 0
        try expectExactResume(models: { (trainer: DPOTrainer) in [trainer.policy] }) {
            made += 1
            return try DPOTrainer(config: config, pairs: pairs, reference: reference,
                                  initial: made == 3 ? nil : initial.copy())
        }
    }

    @Test func ktoResumesExactly() throws {
        var config = KTOTrainerConfig(task: "sort")
        (config.steps, config.batchSize, config.evaluationPrompts) = (Self.steps, 4, 4)
        config.evaluationInterval = Self.interval
        let rows = PreferenceTrainerTests.unpaired(try PreferenceTrainerTests.sortPairs(12, seed: 5))
        let (reference, _) = PreferenceTrainerTests.twoPolicies(seed: 5)
        try expectExactResume(models: { [$0.policy] }) {
            try KTOTrainer(config: config, rows: rows, reference: reference)
        }
    }

    /// Token PPO's separate value network rides in the resume state: restored, it ends as the uninterrupted
    /// run's, and so do the losses its values enter.
    @Test func tokenPPOResumesExactlyWithItsValueNetwork() throws {
        var config = TokenPPOTrainerConfig(task: "sort")
        (config.steps, config.promptsPerStep, config.groupSize, config.epochs) = (4, 2, 2, 2)
        (config.evaluationPrompts, config.evaluationInterval) = (4, Self.interval)
        #expect(config.separateValueModel)
        try expectExactResume(models: { [$0.policy] + ($0.valueModel.map { [$0] } ?? []) }) {
            try TokenPPOTrainer(config: config)
        }
    }

    @Test func onlineDPOResumesExactly() throws {
        var config = OnlineDPOTrainerConfig(task: "sort")
        (config.steps, config.promptsPerStep, config.evaluationPrompts) = (4, 2, 4)
        config.evaluationInterval = Self.interval
        let (reference, _) = PreferenceTrainerTests.twoPolicies(seed: 6)
        try expectExactResume(models: { [$0.policy] }) { try OnlineDPOTrainer(config: config, reference: reference) }
    }

    /// A checkpoint of another token trainer is refused as one error (SFT's progress is not token PPO's).
    @Test func aCheckpointOfAnotherTokenTrainerIsRefused() throws {
        var sft = SFTTrainerConfig(task: "sort")
        (sft.steps, sft.batchSize, sft.evaluationPrompts) = (1, 2, 2)
        var record = Record()
        _ = try SFTTrainer(config: sft).train(events: { record.record($0) })
        let checkpoint = try #require(record.checkpoints.last)
        var config = TokenPPOTrainerConfig(task: "sort")
        config.model = sft.model
        let trainer = try TokenPPOTrainer(config: config)
        #expect(throws: ResumeStateError.self) {
            try trainer.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        }
    }
}

/// The two calls the tests make on every token trainer: `restore`, and `train` with its result dropped (the
/// RL trainers' without a wall-clock budget).
protocol ResumableTokenTrainer {
    associatedtype Result
    func restore(weights: [UInt8], state: [UInt8]) throws
    func train(events: TrainingEventSink, shouldStop: () -> Bool) throws -> Result
}

extension SFTTrainer: ResumableTokenTrainer {}
extension RewardModelTrainer: ResumableTokenTrainer {}
extension DPOTrainer: ResumableTokenTrainer {}
extension KTOTrainer: ResumableTokenTrainer {}

extension TokenPPOTrainer: ResumableTokenTrainer {
    func train(events: TrainingEventSink, shouldStop: () -> Bool) throws -> TokenTrainingResult {
        try train(events: events, shouldStop: shouldStop, budget: .unlimited)
    }
}

extension OnlineDPOTrainer: ResumableTokenTrainer {
    func train(events: TrainingEventSink, shouldStop: () -> Bool) throws -> TokenTrainingResult {
        try train(events: events, shouldStop: shouldStop, budget: .unlimited)
    }
}
