import Foundation
import Testing
@testable import Training
import Objectives
import Randomness

/// CI-sized learning tests for the token trainers (fixed seeds). A random policy over the 32-token
/// vocabulary scores ≈ 0.03 on `sort` (1/32 per position), so the thresholds show learning.
@Suite struct TokenTrainerTests {
    @Test func sftLearnsSortQuickly() throws {
        var config = SFTConfig(task: "sort")
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
        var config = GRPOTrainingConfig(task: "sort")
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
        var config = GRPOTrainingConfig(task: "sort")
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
    @Test func gradientClipDefaultsFollowTRL() {
        var config = TokenRLConfig(task: "sort")
        #expect(config.gradientClip == 1)
        config.algorithm = .rloo
        #expect(config.gradientClip == 1)
        config.algorithm = .ppo
        #expect(config.gradientClip == .infinity)
        config.maxGradientNorm = 0.5
        #expect(config.gradientClip == 0.5)
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
            pairs.append(PreferenceExample(prompt: digits.map(String.init).joined() + "=", chosen: digits.sorted().map(String.init).joined(), rejected: shuffled.map(String.init).joined()))
        }
        var config = RewardModelConfig()
        config.steps = 120
        config.batchSize = 32
        config.evaluationInterval = 0
        let trainer = try RewardModelTrainer(config: config, pairs: pairs)
        let before = trainer.heldOutAccuracy()
        let result = try trainer.train(events: { _ in })
        #expect(result.accuracy >= 0.8, "held-out accuracy \(before) → \(result.accuracy)")
    }
}
