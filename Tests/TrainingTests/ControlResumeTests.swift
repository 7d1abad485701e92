import Policies
import Testing
@testable import Training

/// `train reinforce|a2c|off-policy|ac-lambda|ac-average-reward --resume`: each control trainer interrupted
/// after a checkpoint in mid-run and resumed from it gives the uninterrupted run's metric rows (the periodic
/// evaluations' among them), final weights and final evaluation, to the bit. Small shapes, a few seconds each.
@Suite struct ControlResumeTests {
    typealias Record = ResumeTests.Record

    /// Trains a run whole, then again interrupted at `shouldStop`'s `stopAtCall`-th call, and a third trainer
    /// from the interrupted run's last checkpoint; compares the two outcomes and returns the checkpoint's step.
    /// `train` returns the final figures as bit patterns.
    @discardableResult
    static func interruptedAndResumedMatchesWhole<Trainer>(
        make: () throws -> Trainer, policy: (Trainer) -> MLPActorCritic, stopAtCall: Int,
        restore: (Trainer, _ weights: [UInt8], _ state: [UInt8]) throws -> Void,
        train: (Trainer, TrainingEventSink, () -> Bool) throws -> [UInt64]
    ) throws -> Int {
        var whole = Record()
        let uninterrupted = try make()
        let expected = try train(uninterrupted, { whole.record($0) }, { false })

        var first = Record()
        let stop = ResumeTests.StopAt(call: stopAtCall)
        var interruption: (any Error)?
        do { _ = try train(try make(), { first.record($0) }, { stop() }) } catch { interruption = error }
        #expect(interruption is TrainingError, "the run was not interrupted: \(String(describing: interruption))")
        let checkpoint = try #require(first.checkpoints.last)
        // The resumed run starts at the checkpoint: the interrupted run's rows after it are dropped (as
        // `Store.resumeRun` drops them).
        let kept = first.rows.filter { Int($0.prefix { $0 != " " })! <= checkpoint.step }
        let resumed = try make()
        try restore(resumed, checkpoint.weights, try #require(checkpoint.state, "the checkpoint has no resume state"))
        var rest = Record()
        let result = try train(resumed, { rest.record($0) }, { false })

        #expect(!rest.rows.isEmpty, "the resumed run had nothing left to do")
        #expect(kept + rest.rows == whole.rows)
        #expect(ResumeTests.weights(policy(resumed)) == ResumeTests.weights(policy(uninterrupted)))
        #expect(result == expected)
        return checkpoint.step
    }

    /// The same for a trainer `train … --resume` makes from a config (the batch trainers and actor-critic(λ)).
    static func interruptedAndResumedMatchesWhole<Trainer: ResumableControlTrainer>(
        _ type: Trainer.Type, config: Trainer.Config, stopAtCall: Int
    ) throws -> Int {
        try interruptedAndResumedMatchesWhole(
            make: { try Trainer(config: config) }, policy: \.policy, stopAtCall: stopAtCall,
            restore: { try $0.restore(weights: $1, state: $2) },
            train: { trainer, events, shouldStop in
                let result = try trainer.train(events: events, shouldStop: shouldStop, budget: .unlimited)
                return [result.evaluationReturnMean.bitPattern, UInt64(result.environmentSteps)]
            })
    }

    @Test func reinforceResumesBitExactly() throws {
        var config = ReinforceConfig(environmentID: "CartPole-v1")
        config.environments = 2
        config.totalSteps = 4_000  // over 30 updates of two whole episodes; a checkpoint every 25
        config.hiddenSizes = [16, 16]
        config.entropyCoefficient = 0.01
        config.evaluationEpisodes = 2
        config.evaluationInterval = 10
        let step = try Self.interruptedAndResumedMatchesWhole(ReinforceTrainer.self, config: config, stopAtCall: 28)
        #expect(step == 25)
    }

    /// 40 updates of 2 environments × 4 steps, evaluated every 10: the checkpoint at update 25 falls in
    /// mid-episode.
    static func small<Config: NStepActorCriticConfig>(_ config: Config) -> Config {
        var config = config
        config.environments = 2
        config.rolloutSteps = 4
        config.totalSteps = 8 * 40
        config.evaluationEpisodes = 2
        config.evaluationInterval = 10
        return config
    }

    @Test func a2cResumesBitExactlyMidEpisode() throws {
        let config = Self.small(A2CConfig(environmentID: "CartPole-v1"))
        let step = try Self.interruptedAndResumedMatchesWhole(A2CTrainer.self, config: config, stopAtCall: 30)
        #expect(step == 25)
    }

    @Test func offPolicyResumesBitExactlyWithItsBehaviourPolicy() throws {
        var config = Self.small(OffPolicyActorCriticConfig(environmentID: "CartPole-v1"))
        // μ was refreshed at update 25 from π before that update: update 26 acts with that older copy.
        config.behaviourRefresh = 3
        config.importanceTruncation = 2  // ratios near 1 untruncated: μ's probabilities count
        let step = try Self.interruptedAndResumedMatchesWhole(
            OffPolicyActorCriticTrainer.self, config: config, stopAtCall: 30)
        #expect(step == 25)
    }

    @Test func actorCriticLambdaResumesBitExactly() throws {
        var config = ActorCriticLambdaConfig(environmentID: "CartPole-v1")
        config.totalSteps = 3_000  // checkpoints every 50 episodes; stopped at step 2000
        config.hiddenSizes = [16]
        config.evaluationEpisodes = 2
        config.evaluationInterval = 15
        let step = try Self.interruptedAndResumedMatchesWhole(
            ActorCriticLambdaTrainer.self, config: config, stopAtCall: 2)
        #expect(step > 0 && step % 50 == 0)
    }

    @Test func averageRewardActorCriticResumesBitExactlyMidTrace() throws {
        var config = AverageRewardActorCriticConfig()
        config.totalSteps = 3_000
        config.logInterval = 50  // a checkpoint every 1000 steps, with the traces and R̄ in mid-stream
        config.evaluationSteps = 300
        config.evaluationInterval = 700
        let step = try Self.interruptedAndResumedMatchesWhole(
            make: { try AverageRewardActorCriticTrainer(config: config) }, policy: \.policy, stopAtCall: 2,
            restore: { try $0.restore(weights: $1, state: $2) },
            train: { trainer, events, shouldStop in
                let result = try trainer.train(events: events, shouldStop: shouldStop)
                return [result.evaluationAverageReward.bitPattern, result.averageRewardEstimate.bitPattern]
            })
        #expect(step == 1_000)
    }

    @Test func aCheckpointOfAnotherArchitectureIsRefused() throws {
        var config = ActorCriticLambdaConfig(environmentID: "CartPole-v1")
        config.totalSteps = 200
        config.hiddenSizes = [8]
        config.evaluationEpisodes = 0
        var record = Record()
        _ = try ActorCriticLambdaTrainer(config: config).train(events: { record.record($0) })
        let checkpoint = try #require(record.checkpoints.last)
        config.hiddenSizes = [4]
        let other = try ActorCriticLambdaTrainer(config: config)
        #expect(throws: (any Error).self) {
            try other.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        }
    }
}
