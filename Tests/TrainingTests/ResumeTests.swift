import NN
import Testing
@testable import Training

/// `train … --resume`: a run interrupted after checkpoint k and resumed from it gives the same metric rows
/// and the same final weights, to the bit, as the run that was never interrupted.
@Suite struct ResumeTests {
    /// What a run reports: its metric rows (the timing ones left out), the checkpoints and the final weights.
    struct Record {
        var rows: [String] = []
        var checkpoints: [(step: Int, weights: [UInt8], state: [UInt8]?)] = []

        mutating func record(_ event: TrainingEvent) {
            switch event {
            case .metrics(let step, let samplesSeen, let values):
                for (name, value) in values.sorted(by: { $0.key < $1.key }) where name != "charts/SPS" {
                    rows.append("\(step) \(samplesSeen) \(name) \(value.bitPattern)")
                }
            case .checkpoint(let step, _, let weights, let state):
                checkpoints.append((step, weights, state))
            default:
                break
            }
        }
    }

    /// A `shouldStop` that asks to stop at its `call`-th call (before that update or step).
    final class StopAt {
        let call: Int
        var calls = 0
        init(call: Int) { self.call = call }
        func callAsFunction() -> Bool {
            calls += 1
            return calls >= call
        }
    }

    static func weights(_ module: some Module) -> [[UInt32]] { module.parameters.map { $0.data.map(\.bitPattern) } }

    @Test func ppoResumedAfterAnInterruptionMatchesTheUninterruptedRun() throws {
        var config = ControlPPOConfig.defaults(for: "CartPole-v1")
        config.totalSteps = 256 * 8  // 8 updates, a checkpoint after each
        config.epochs = 2
        config.normalizeObservations = true
        config.normalizeRewards = true
        config.evaluationEpisodes = 2
        config.evaluationInterval = 3

        var whole = Record()
        let uninterrupted = try ControlPPOTrainer(config: config)
        let expected = try uninterrupted.train(events: { whole.record($0) })

        var first = Record()
        let stop = StopAt(call: 6)
        #expect(throws: TrainingError.interrupted(step: 5)) {
            try ControlPPOTrainer(config: config).train(events: { first.record($0) }, shouldStop: { stop() })
        }
        let checkpoint = try #require(first.checkpoints.last)
        #expect(checkpoint.step == 5)
        let resumed = try ControlPPOTrainer(config: config)
        try resumed.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        var rest = Record()
        let result = try resumed.train(events: { rest.record($0) })

        #expect(first.rows + rest.rows == whole.rows)
        #expect(Self.weights(resumed.policy) == Self.weights(uninterrupted.policy))
        #expect(result.evaluationReturnMean == expected.evaluationReturnMean)
        #expect(result.environmentSteps == expected.environmentSteps)
    }

    @Test func grpoResumedAfterAnInterruptionMatchesTheUninterruptedRun() throws {
        // PolicyLab's recipe (β > 0: a reference policy; the entropy bonus; μ = 2), with dynamic sampling on.
        var config = GRPOTrainerConfig(task: "sort", preset: .default)
        config.dynamicSampling = true
        // A budget of 10 × 8 completions: two steps draw at most 2 × 4 generation batches of 8, so step 3 comes.
        config.steps = 10
        config.promptsPerStep = 2
        config.objective.groupSize = 4
        config.evaluationPrompts = 4
        config.evaluationInterval = 1

        var whole = Record()
        let uninterrupted = try GRPOTrainer(config: config)
        let expected = try uninterrupted.train(events: { whole.record($0) })

        var first = Record()
        let stop = StopAt(call: 3)
        #expect(throws: TrainingError.interrupted(step: 2)) {
            try GRPOTrainer(config: config).train(events: { first.record($0) }, shouldStop: { stop() })
        }
        let checkpoint = try #require(first.checkpoints.last)
        #expect(checkpoint.step == 2)
        // The resumed run starts at the checkpoint: the interrupted run's rows after it are dropped.
        let kept = first.rows.filter { Int($0.prefix { $0 != " " })! <= checkpoint.step }
        let resumed = try GRPOTrainer(config: config)
        try resumed.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        var rest = Record()
        let result = try resumed.train(events: { rest.record($0) })

        #expect(kept + rest.rows == whole.rows)
        #expect(Self.weights(resumed.policy) == Self.weights(uninterrupted.policy))
        #expect(result.evaluation == expected.evaluation && result.completions == expected.completions)
    }

    @Test func rlooResumedAfterAnInterruptionMatchesTheUninterruptedRun() throws {
        var config = RLOOTrainerConfig(task: "sort")  // β 0.05: a reference policy
        config.steps = 4
        config.promptsPerStep = 2
        config.objective.groupSize = 2
        config.evaluationPrompts = 4
        config.evaluationInterval = 1

        var whole = Record()
        let uninterrupted = try RLOOTrainer(config: config)
        _ = try uninterrupted.train(events: { whole.record($0) })
        var first = Record()
        let stop = StopAt(call: 3)
        #expect(throws: TrainingError.interrupted(step: 2)) {
            try RLOOTrainer(config: config).train(events: { first.record($0) }, shouldStop: { stop() })
        }
        let checkpoint = try #require(first.checkpoints.last)
        let resumed = try RLOOTrainer(config: config)
        try resumed.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        var rest = Record()
        _ = try resumed.train(events: { rest.record($0) })
        #expect(first.rows + rest.rows == whole.rows)
        #expect(Self.weights(resumed.policy) == Self.weights(uninterrupted.policy))
    }

    @Test func aCheckpointOfAnotherConfigIsRefused() throws {
        var config = ControlPPOConfig.defaults(for: "CartPole-v1")
        config.totalSteps = 256
        config.epochs = 1
        var record = Record()
        _ = try ControlPPOTrainer(config: config).train(events: { record.record($0) })
        let checkpoint = try #require(record.checkpoints.last)
        config.environments = 4  // other environments: the saved ones do not fit
        let other = try ControlPPOTrainer(config: config)
        #expect(throws: (any Error).self) {
            try other.restore(weights: checkpoint.weights, state: try #require(checkpoint.state))
        }
    }
}
