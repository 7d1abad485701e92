import Foundation
import Testing
@testable import Training

/// A spent wall-clock budget makes the update under way the last one: the run is evaluated, checkpointed and
/// returned (finished, not interrupted), and the samples it used are what it reports. A budget of 0 s is spent
/// before the first check, which makes the stopping point exact: one update (AC(λ): the first 1,000-step check).
@Suite struct WallClockBudgetTests {
    /// Events a run sent, by kind.
    final class Log {
        var metricSteps: [Int] = []
        var samplesSeen: [Int] = []
        var evaluated = false
        var checkpoints: [Int] = []

        func handle(_ event: TrainingEvent) {
            switch event {
            case .metrics(let step, let samples, let values):
                metricSteps.append(step)
                samplesSeen.append(samples)
                if values.keys.contains(where: { $0.hasPrefix("eval/") }) { evaluated = true }
            case .checkpoint(let step, _, _, _): checkpoints.append(step)
            default: break
            }
        }
    }

    @Test func aSpentBudgetEndsAGRPORunAfterOneEvaluatedStep() throws {
        var config = GRPOTrainerConfig(task: "sort")
        config.steps = 50
        config.promptsPerStep = 2
        config.evaluationPrompts = 8
        config.evaluationInterval = 0
        let log = Log()
        let result = try GRPOTrainer(config: config).train(
            events: log.handle, budget: WallClockBudget(seconds: 0))
        #expect(result.steps == 1 && result.completions == 2 * config.objective.groupSize)
        #expect(log.evaluated && log.checkpoints == [1] && log.samplesSeen.max() == result.completions)
    }

    @Test func aSpentBudgetEndsControlRunsAfterOneUpdate() throws {
        var a2c = A2CConfig(environmentID: "CartPole-v1")
        a2c.evaluationEpisodes = 1
        let a2cLog = Log()
        let a2cResult = try A2CTrainer(config: a2c).train(events: a2cLog.handle, budget: WallClockBudget(seconds: 0))
        #expect(a2cResult.environmentSteps == a2c.environments * a2c.rolloutSteps)
        #expect(a2cLog.evaluated && a2cLog.checkpoints == [1])

        var ppo = ControlPPOConfig.defaults(for: "CartPole-v1")
        ppo.evaluationEpisodes = 1
        let ppoLog = Log()
        let ppoResult = try ControlPPOTrainer(config: ppo).train(
            events: ppoLog.handle, budget: WallClockBudget(seconds: 0))
        #expect(ppoResult.environmentSteps == ppo.batchSize && ppoLog.checkpoints == [1])
        #expect(ppoLog.evaluated && ppoLog.metricSteps.allSatisfy { $0 == 1 }, "the evaluation is logged at update 1")

        var lambda = ActorCriticLambdaConfig(environmentID: "CartPole-v1")
        lambda.evaluationEpisodes = 1
        let lambdaResult = try ActorCriticLambdaTrainer(config: lambda).train(
            events: { _ in }, budget: WallClockBudget(seconds: 0))
        #expect(lambdaResult.environmentSteps == 999)
    }

    @Test func noLimitNeverReadsAsSpent() {
        #expect(!WallClockBudget.unlimited.isSpent && !WallClockBudget(seconds: 3600).isSpent)
        #expect(WallClockBudget(seconds: 0).isSpent)
    }
}
