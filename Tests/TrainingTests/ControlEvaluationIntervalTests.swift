import Testing
@testable import Training

/// `--eval-interval` on the control trainers: the greedy evaluation is logged at every N-th step, and it
/// draws nothing from the run's generator, so every training metric row is the same as without it.
@Suite struct ControlEvaluationIntervalTests {
    /// A run's metric rows, without the timing one (SPS), split into the evaluation's and the rest.
    struct Rows {
        var training: [String] = []
        var evaluationSteps: [Int] = []

        mutating func record(_ event: TrainingEvent) {
            guard case .metrics(let step, let samplesSeen, let values) = event else { return }
            for (name, value) in values.sorted(by: { $0.key < $1.key }) where name != "charts/SPS" {
                if name == "eval/return_mean" || name == "eval/average_reward" {
                    evaluationSteps.append(step)
                } else if !name.hasPrefix("eval/") {
                    training.append("\(step) \(samplesSeen) \(name) \(value.bitPattern)")
                }
            }
        }
    }

    /// Runs `train` with --eval-interval 0 and `interval`; returns both runs' rows.
    func compare(
        interval: Int, _ train: (Int, TrainingEventSink) throws -> Void
    ) throws -> (without: Rows, with: Rows) {
        var without = Rows(), with = Rows()
        try train(0) { without.record($0) }
        try train(interval) { with.record($0) }
        return (without, with)
    }

    @Test func ppoEvaluatesEveryIntervalWithoutMovingTheRun() throws {
        // Normalised observations: the evaluation must use a frozen copy of the normaliser.
        let rows = try compare(interval: 2) { interval, events in
            var config = ControlPPOConfig.defaults(for: "CartPole-v1")
            config.totalSteps = 256 * 5
            config.epochs = 2
            config.normalizeObservations = true
            config.evaluationEpisodes = 2
            config.evaluationInterval = interval
            _ = try ControlPPOTrainer(config: config).train(events: events)
        }
        #expect(!rows.without.training.isEmpty && rows.with.training == rows.without.training)
        #expect(rows.without.evaluationSteps == [5])
        #expect(rows.with.evaluationSteps == [2, 4, 5])
    }

    @Test func reinforceA2COffPolicyAndLambdaEvaluateEveryInterval() throws {
        let reinforce = try compare(interval: 3) { interval, events in
            var config = ReinforceConfig(environmentID: "CartPole-v1")
            config.totalSteps = 1_000
            config.environments = 4
            config.evaluationEpisodes = 2
            config.evaluationInterval = interval
            _ = try ReinforceTrainer(config: config).train(events: events)
        }
        #expect(!reinforce.with.training.isEmpty && reinforce.with.training == reinforce.without.training)
        let updates = reinforce.without.evaluationSteps.last ?? 0
        #expect(updates > 3)
        #expect(reinforce.with.evaluationSteps == Array(stride(from: 3, to: updates, by: 3)) + [updates])

        let a2c = try compare(interval: 4) { interval, events in
            var config = A2CConfig(environmentID: "CartPole-v1")
            config.totalSteps = 16 * 8 * 10
            config.evaluationEpisodes = 2
            config.evaluationInterval = interval
            _ = try A2CTrainer(config: config).train(events: events)
        }
        #expect(!a2c.with.training.isEmpty && a2c.with.training == a2c.without.training)
        #expect(a2c.with.evaluationSteps == [4, 8, 10])

        let offPolicy = try compare(interval: 5) { interval, events in
            var config = OffPolicyActorCriticConfig(environmentID: "CartPole-v1")
            config.totalSteps = 16 * 8 * 10
            config.evaluationEpisodes = 2
            config.evaluationInterval = interval
            _ = try OffPolicyActorCriticTrainer(config: config).train(events: events)
        }
        #expect(!offPolicy.with.training.isEmpty && offPolicy.with.training == offPolicy.without.training)
        #expect(offPolicy.with.evaluationSteps == [5, 10])

        let lambda = try compare(interval: 10) { interval, events in
            var config = ActorCriticLambdaConfig(environmentID: "CartPole-v1")
            config.totalSteps = 1_000
            config.evaluationEpisodes = 2
            config.evaluationInterval = interval
            _ = try ActorCriticLambdaTrainer(config: config).train(events: events)
        }
        #expect(!lambda.with.training.isEmpty && lambda.with.training == lambda.without.training)
        let episodes = lambda.without.evaluationSteps.last ?? 0
        #expect(episodes > 10)
        // The final evaluation is logged at the last finished episode; an evaluation may precede it at that
        // episode when the run ends in the middle of the next one.
        let periodic = Array(lambda.with.evaluationSteps.dropLast())
        #expect(lambda.with.evaluationSteps.last == episodes)
        #expect(
            periodic == Array(stride(from: 10, to: episodes, by: 10))
                || periodic == Array(stride(from: 10, through: episodes, by: 10)))
    }

    @Test func averageRewardActorCriticEvaluatesEveryInterval() throws {
        let rows = try compare(interval: 2_000) { interval, events in
            var config = AverageRewardActorCriticConfig()
            config.totalSteps = 5_000
            config.evaluationSteps = 500
            config.evaluationInterval = interval
            _ = try AverageRewardActorCriticTrainer(config: config).train(events: events)
        }
        #expect(!rows.with.training.isEmpty && rows.with.training == rows.without.training)
        #expect(rows.with.evaluationSteps == [2_000, 4_000, 5_000])
    }

    @Test func anIntervalWithoutEpisodesIsRefused() {
        var config = A2CConfig(environmentID: "CartPole-v1")
        config.evaluationEpisodes = 0
        config.evaluationInterval = 5
        #expect(throws: TrainingError.self) { try config.validate() }
        config.evaluationInterval = -1
        config.evaluationEpisodes = 5
        #expect(throws: TrainingError.self) { try config.validate() }
    }
}
