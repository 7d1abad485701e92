import Foundation
import NN
import Objectives
import Policies
import Randomness
import Tasks
import Testing
@testable import Training

/// The preference losses beyond DPO in their trainers: each trainer's `lossAndGradients` against central
/// finite differences of its own loss (SimPO, ORPO in `DPOTrainer`; KTO in `KTOTrainer`), and seeded learning
/// tests with thresholds on `sort` from the briefly supervised start of `TokenLearningTests`.
@Suite struct PreferenceTrainerTests {
    static func sortPairs(_ count: Int, seed: UInt64) throws -> [PreferenceExample] {
        var generator = SeededGenerator(seed: seed)
        return makePreferencePairs(task: try TaskRegistry.task(named: "sort"), count: count, using: &generator).map {
            PreferenceExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected)
        }
    }

    /// Unpaired rows from pairs: each chosen answer desirable, each rejected one undesirable.
    static func unpaired(_ pairs: [PreferenceExample]) -> [UnpairedExample] {
        pairs.flatMap {
            [UnpairedExample(prompt: $0.prompt, completion: $0.chosen, desirable: true),
             UnpairedExample(prompt: $0.prompt, completion: $0.rejected, desirable: false)]
        }
    }

    static func twoPolicies(seed: UInt64) -> (reference: TransformerPolicy, initial: TransformerPolicy) {
        var generator = SeededGenerator(seed: seed)
        var model = TransformerConfig.tokenPolicySmall
        model.vocabularySize = Vocabulary.anchor.size
        return (TransformerPolicy(config: model, generator: &generator),
                TransformerPolicy(config: model, generator: &generator))
    }

    @Test(arguments: ["simpo", "cpo", "orpo"])
    func referenceFreeLossGradientMatchesFiniteDifferences(loss: String) throws {
        let (reference, initial) = Self.twoPolicies(seed: 9)
        var config = DPOTrainerConfig(task: nil)
        config.referenceFree = switch loss {
        case "simpo": .cpo(.simPO(beta: 2, gamma: 0.5))
        case "cpo": .cpo(CPOConfig(beta: 0.5, cpoAlpha: 1))
        default: .orpo(ORPOConfig(beta: 0.5))
        }
        config.heldOutFraction = 0
        let trainer = try DPOTrainer(
            config: config, pairs: try Self.sortPairs(24, seed: 9), reference: reference, initial: initial)
        let batch = Array(trainer.training.prefix(8))
        let check = TokenLossGradientTests()
        check.checkFiniteDifferences(parameters: check.someParameters(trainer.policy),
                                     analytic: { _ = trainer.lossAndGradients(batch) },
                                     loss: { trainer.lossAndGradients(batch).loss })
    }

    @Test func ktoLossGradientMatchesFiniteDifferences() throws {
        let (reference, initial) = Self.twoPolicies(seed: 11)
        var config = KTOTrainerConfig(task: nil)
        config.objective = KTOConfig(beta: 0.5, desirableWeight: 1.2, undesirableWeight: 0.8)
        config.heldOutFraction = 0
        let trainer = try KTOTrainer(
            config: config, rows: Self.unpaired(try Self.sortPairs(12, seed: 11)), reference: reference,
            initial: initial)
        let batch = Array(trainer.training.prefix(8))
        let check = TokenLossGradientTests()
        check.checkFiniteDifferences(parameters: check.someParameters(trainer.policy),
                                     analytic: { _ = trainer.lossAndGradients(batch) },
                                     loss: { trainer.lossAndGradients(batch).loss })
    }

    /// KTO: the held-out label accuracy starts at 0.5 (policy = reference: every implicit reward is 0, right
    /// for the undesirable rows only) and must end well above it.
    @Test func ktoLearnsHeldOutLabels() throws {
        let reference = try TokenLearningTests.supervisedStart().policy
        var config = KTOTrainerConfig(task: nil)
        config.steps = 60
        config.batchSize = 32
        config.learningRate = 1e-3
        config.heldOutFraction = 0.2
        config.evaluationInterval = 0
        let trainer = try KTOTrainer(
            config: config, rows: Self.unpaired(try Self.sortPairs(300, seed: 5)), reference: reference)
        let before = trainer.heldOutAccuracy()
        let result = try trainer.train(events: { _ in })
        print("kto \(config.steps) steps: held-out label accuracy \(before) → \(result.heldOutAccuracy)")
        #expect(abs(before - 0.5) < 0.1, "held-out label accuracy before training \(before)")
        #expect(result.heldOutAccuracy >= 0.7, "held-out label accuracy \(before) → \(result.heldOutAccuracy)")
    }

    /// SimPO and ORPO: reference-free, so their held-out accuracy (the policy's own average log-prob of the
    /// chosen answer above the rejected one's) starts where the supervised policy is, and must rise.
    @Test(arguments: ["simpo", "orpo"])
    func referenceFreeLossesLearnHeldOutPreferences(loss: String) throws {
        let reference = try TokenLearningTests.supervisedStart().policy
        var config = DPOTrainerConfig(task: nil)
        config.referenceFree = loss == "simpo" ? .cpo(.simPO(beta: 2, gamma: 0.5)) : .orpo(ORPOConfig(beta: 0.5))
        config.steps = 60
        config.batchSize = 32
        config.learningRate = 1e-3
        config.heldOutFraction = 0.2
        config.evaluationInterval = 0
        let trainer = try DPOTrainer(config: config, pairs: try Self.sortPairs(300, seed: 5), reference: reference)
        let before = trainer.heldOutAccuracy()
        let result = try trainer.train(events: { _ in })
        print("\(loss) \(config.steps) steps: held-out preference accuracy \(before) → \(result.heldOutAccuracy)")
        #expect(result.heldOutAccuracy >= 0.75, "\(loss): held-out accuracy \(before) → \(result.heldOutAccuracy)")
        #expect(result.heldOutAccuracy > before + 0.05,
                "\(loss): held-out accuracy \(before) → \(result.heldOutAccuracy)")
    }
}
