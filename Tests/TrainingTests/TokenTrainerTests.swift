import Foundation
import Testing
@testable import Training
import Objectives
import Randomness

/// CI-sized learning tests for the token trainers (fixed seeds). A random policy over the 32-token
/// vocabulary scores ≈ 0.03 on `sort` (1/32 per position), so the thresholds show learning.
@Suite struct TokenTrainerTests {
    @Test func sftLearnsSortQuickly() throws {
        var config = SFTTrainerConfig(task: "sort")
        config.steps = 150
        config.batchSize = 32
        config.evaluationPrompts = 64
        config.evaluationInterval = 0
        var sampleEvents = 0
        let result = try SFTTrainer(config: config).train(events: { event in
            if case .samples = event { sampleEvents += 1 }
        })
        #expect(result.evaluation.exactMatch >= 0.6, "greedy exact \(result.evaluation.exactMatch)")
        #expect(sampleEvents == 1)
    }

    @Test func grpoLearnsSortFromRandomWeightsOnACISizedBudget() throws {
        var config = GRPOTrainerConfig(task: "sort")
        config.steps = 120
        config.evaluationPrompts = 64
        config.evaluationInterval = 0
        var rewards: [Double] = []
        let result = try GRPOTrainer(config: config).train(events: { event in
            if case .metrics(_, _, let values) = event, let r = values["reward"] { rewards.append(r) }
        })
        #expect(rewards.count == 120)
        let early = rewards.prefix(10).reduce(0, +) / 10, late = rewards.suffix(10).reduce(0, +) / 10
        #expect(late > early + 0.15, "sampled reward \(early) → \(late)")
        #expect(result.evaluation.meanReward >= 0.3, "greedy reward \(result.evaluation.meanReward)")
        #expect(result.completions == 120 * 64)
    }

    @Test func grpoRefusesImpossibleSettingsBeforeWork() {
        var config = GRPOTrainerConfig(task: "sort")
        config.objective.groupSize = 1
        #expect(throws: ObjectiveConfigurationError.self) { try GRPOTrainer(config: config) }
        config.objective.groupSize = 8
        config.objective.beta = -1
        #expect(throws: ObjectiveConfigurationError.self) { try GRPOTrainer(config: config) }
        config.objective.beta = 0
        config.task = "nope"
        #expect(throws: (any Error).self) { try GRPOTrainer(config: config) }
        config.task = "sort"
        config.maxGradientNorm = 0
        #expect(throws: TrainingError.self) { try GRPOTrainer(config: config) }
    }

    /// TRL's defaults: GRPO and RLOO run under the HF Trainer (max_grad_norm 1.0); TRL 1.12's PPO loop
    /// steps the optimizer without clipping.
    @Test func gradientClipDefaultsFollowTRL() throws {
        #expect(GRPOTrainerConfig(task: "sort").maxGradientNorm == 1)
        #expect(RLOOTrainerConfig(task: "sort").maxGradientNorm == 1)
        #expect(TokenPPOTrainerConfig(task: "sort").maxGradientNorm == nil)
        let ppo = try TokenPPOTrainer(config: TokenPPOTrainerConfig(task: "sort"))
        #expect(ppo.loop.optimizer.maximumGradientNorm == .infinity)
    }

    @Test func rlooLearnsSortFromRandomWeightsOnACISizedBudget() throws {
        var config = RLOOTrainerConfig(task: "sort")
        config.steps = 120
        config.evaluationPrompts = 64
        config.evaluationInterval = 0
        var kl: [Double] = []
        let result = try RLOOTrainer(config: config).train(events: { event in
            if case .metrics(_, _, let values) = event, let k = values["objective/kl"] { kl.append(k) }
        })
        #expect(kl.count == 120)
        #expect(result.evaluation.meanReward >= 0.3, "greedy reward \(result.evaluation.meanReward)")
    }

    /// The learning rate follows `LearningRateSchedule.linear`: lr·(1 − (step − 1)/steps), rounded once to Float.
    @Test func learningRateDecaysLinearlyToZero() throws {
        var config = GRPOTrainerConfig(task: "sort")
        config.steps = 3
        config.evaluationPrompts = 4
        config.evaluationInterval = 0
        var rates: [Double] = []
        _ = try GRPOTrainer(config: config).train(events: { event in
            if case .metrics(_, _, let values) = event, let rate = values["learning_rate"] { rates.append(rate) }
        })
        let expected: [Double] = (1...3).map { (step: Int) -> Double in
            let fraction: Double = 1 - Double(step - 1) / 3
            return Double(Float(1e-3 * fraction))
        }
        #expect(rates == expected)
    }
}

@Suite struct RewardModelTests {
    @Test func bradleyTerryRewardModelLearnsToPreferSortedAnswers() throws {
        var generator = Randomness.SeededGenerator(seed: 11)
        var pairs: [PreferenceExample] = []
        for _ in 0..<400 {
            let digits = (0..<6).map { _ in generator.nextInt(below: 6) }
            var shuffled = digits
            if shuffled == digits.sorted() { shuffled = digits.sorted().reversed() }
            if shuffled == digits.sorted() { continue }  // all equal digits: no rejected answer
            pairs.append(PreferenceExample(prompt: digits.map(String.init).joined() + "=",
                                           chosen: digits.sorted().map(String.init).joined(),
                                           rejected: shuffled.map(String.init).joined()))
        }
        var config = RewardModelTrainerConfig()
        config.steps = 120
        config.batchSize = 32
        config.evaluationInterval = 0
        let trainer = try RewardModelTrainer(config: config, pairs: pairs)
        let before = trainer.heldOutAccuracy()
        let result = try trainer.train(events: { _ in })
        #expect(result.accuracy >= 0.8, "held-out accuracy \(before) → \(result.accuracy)")
    }
}
