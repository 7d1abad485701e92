import Foundation
import NN
import Policies
import Randomness
import Tasks
import Testing
@testable import Training

/// The rollout's sources: a weighted reward of components (each logged on its own), the split of a stored
/// prompt dataset, and GRPO learning from stored prompts under a weighted reward.
@Suite struct RolloutSourceTests {
    @Test func theRewardIsTheWeightedSumOfItsComponents() throws {
        let task = try TaskRegistry.task(named: "sort")
        var generator = SeededGenerator(seed: 3)
        var model = TransformerConfig.tokenPolicySmall
        model.vocabularySize = TokenTaskCodec().vocabulary.size
        let rewardModel = RewardModelScorer(model: TransformerPolicy(config: model, generator: &generator))
        let source = RewardSource(components: [
            .init(name: "task", weight: 1, scorer: .verifier(task)),
            .init(name: "rm", weight: 0.5, scorer: .rewardModel(rewardModel)),
            .init(name: "length", weight: -0.05, scorer: .length),
        ])
        let codec = TokenTaskCodec()
        let prompts = [TaskPrompt(prompt: "315204=", reference: "012345"), TaskPrompt(prompt: "315204=", reference: "")]
        let texts = ["012345", "54"]
        let encodedPrompts = try prompts.map { try codec.encodePrompt($0.prompt) }
        let completions = try texts.map { try codec.encodeCompletion($0) }
        let (total, components) = try source.score(prompts: prompts, encodedPrompts: encodedPrompts,
                                                    completions: completions, texts: texts)
        let verifier = try texts.map { try task.reward(prompt: "315204=", completion: $0) }
        let scores = rewardModel.scores(prompts: encodedPrompts, completions: completions)
        #expect(components.map(\.name) == ["task", "rm", "length"])
        #expect(components[0].values == verifier && components[1].values == scores && components[2].values == [7, 3])
        for row in 0..<2 {
            #expect(abs(total[row] - (verifier[row] + 0.5 * scores[row] - 0.05 * [7.0, 3][row])) < 1e-12)
        }
        // One component of weight 1 is that component itself, to the bit (seeded runs stay as they were).
        let alone = try RewardSource(task: task).score(prompts: prompts, encodedPrompts: encodedPrompts,
                                                       completions: completions, texts: texts)
        #expect(alone.total == verifier)

        // The rollout's metrics name each component.
        let batch = TokenRolloutBatch(
            groupSize: 2, prompts: prompts, encodedPrompts: encodedPrompts, completions: completions, texts: texts,
            rewards: total, totalLogProbabilities: [0, 0], truncated: [false, false], rewardComponents: components)
        let metrics = batch.metrics
        #expect(metrics["rewards/length/mean"] == 5)
        #expect(abs(metrics["rewards/length/std"]! - 2 * 2.0.squareRoot()) < 1e-12)
        #expect(metrics["rewards/task/mean"] != nil && metrics["rewards/rm/std"] != nil)
    }

    @Test func aStoredDatasetIsSplitByAHashOfEachPrompt() throws {
        var generator = SeededGenerator(seed: 7)
        let task = try TaskRegistry.task(named: "sort")
        let rows = makePromptDataset(task: task, count: 300, using: &generator)
        let source = try RolloutSource.promptDataset(rows, reward: RewardSource(task: task))
        let training = try #require(source.trainingPrompts), heldOut = try #require(source.evaluationPrompts)
        #expect(training.count + heldOut.count == rows.count)
        #expect(Set(training.map(\.prompt)).isDisjoint(with: heldOut.map(\.prompt)))
        #expect(heldOut.count > 10 && heldOut.count < 60, "\(heldOut.count) of 300 held out")
        #expect(heldOut.allSatisfy { StoredPromptSplit.isHeldOut($0.prompt) })
        // The rule depends on the text only: the same prompts in another order split alike.
        let reversed = try RolloutSource.promptDataset(rows.reversed(), reward: RewardSource(task: task))
        #expect(Set(reversed.evaluationPrompts!.map(\.prompt)) == Set(heldOut.map(\.prompt)))

        // Text outside the vocabulary is refused by row and character; a dataset without a held-out prompt too.
        let bad = rows.prefix(3) + [TaskPrompt(prompt: "12?=", reference: "")]
        do {
            _ = try RolloutSource.promptDataset(Array(bad), reward: RewardSource(task: task))
            Issue.record("a prompt outside the vocabulary was accepted")
        } catch { #expect("\(error)".contains("row 4"), "\(error)") }
        let trainingOnly = Array(training.prefix(5))
        #expect(throws: TrainingError.self) {
            try RolloutSource.promptDataset(trainingOnly, reward: RewardSource(task: task))
        }
    }

    /// GRPO from the supervised start of `TokenLearningTests`, drawing its prompts from 300 stored `sort`
    /// prompts under task:1,length:-0.01, must raise the verifier's component within a small budget, and
    /// evaluate on the dataset's held-out prompts only. Seeded outcome: the verifier's component (mean of the
    /// first vs the last 10 steps) 0.167 → 0.241; greedy reward 0.571 on the 21 held-out rows.
    @Test func grpoLearnsFromStoredPromptsUnderAWeightedReward() throws {
        let start = try TokenLearningTests.supervisedStart()
        var generator = SeededGenerator(seed: 7)
        let task = try TaskRegistry.task(named: "sort")
        let rows = makePromptDataset(task: task, count: 300, using: &generator)
        let source = try RolloutSource.promptDataset(rows, reward: RewardSource(components: [
            .init(name: "task", weight: 1, scorer: .verifier(task)),
            .init(name: "length", weight: -0.01, scorer: .length),
        ]))
        var config = GRPOTrainerConfig(task: "sort")
        config.steps = 40
        config.evaluationInterval = 0
        let trainer = try GRPOTrainer(config: config, initial: start.policy, source: source)
        var verifier: [Double] = []
        var evaluated: [String] = []
        let result = try trainer.train(events: { event in
            if case .metrics(_, _, let values) = event, let r = values["rewards/task/mean"] { verifier.append(r) }
            if case .samples(_, let samples) = event {
                evaluated += samples.filter { $0.source == .evaluation }.map(\.prompt)
            }
        })
        let before = verifier.prefix(10).reduce(0, +) / 10, after = verifier.suffix(10).reduce(0, +) / 10
        print("grpo on stored prompts, 40 steps: verifier \(before) → \(after), greedy on held-out rows "
              + "\(result.evaluation.meanReward) over \(result.evaluation.prompts) prompts")
        #expect(verifier.count == config.steps)
        #expect(after >= before + 0.05, "verifier component \(before) → \(after)")
        #expect(result.evaluation.prompts == source.evaluationPrompts!.count)
        #expect(evaluated.allSatisfy { StoredPromptSplit.isHeldOut($0) } && !evaluated.isEmpty)
    }
}
