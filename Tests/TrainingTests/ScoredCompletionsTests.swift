import Foundation
import NN
import Policies
import Randomness
import Tasks
import Testing
@testable import Training

/// Reward datasets that train something: scored rows as Bradley–Terry pairs within a prompt (and a reward
/// model learning from them), and completions sampled from a policy and scored.
@Suite struct ScoredCompletionsTests {
    @Test func scoredRowsPairWithinAPromptAndTiesAreLeftOut() {
        let rows = [
            ScoredExample(prompt: "21=", response: "12", reward: 1),
            ScoredExample(prompt: "9=", response: "9", reward: 1),
            ScoredExample(prompt: "21=", response: "21", reward: 0.5),
            ScoredExample(prompt: "21=", response: "1", reward: 1),
        ]
        #expect(preferencePairs(fromScored: rows) == [
            PreferenceExample(prompt: "21=", chosen: "12", rejected: "21"),
            PreferenceExample(prompt: "21=", chosen: "1", rejected: "21"),
        ])
        #expect(preferencePairs(fromScored: Array(rows.prefix(2))).isEmpty)
    }

    /// Scored rows — per prompt the sorted answer (reward 1) and a shuffled one twice (reward 0, a tie) —
    /// train a reward model through their pairs to the held-out accuracy of the preference-pair test.
    @Test func aRewardModelLearnsFromScoredRows() throws {
        var generator = SeededGenerator(seed: 11)
        var rows: [ScoredExample] = []
        for _ in 0..<400 {
            let digits = (0..<6).map { _ in generator.nextInt(below: 6) }
            let prompt = digits.map(String.init).joined() + "="
            var shuffled = digits
            if shuffled == digits.sorted() { shuffled = digits.sorted().reversed() }
            if shuffled == digits.sorted() { continue }
            rows.append(ScoredExample(prompt: prompt, response: digits.sorted().map(String.init).joined(), reward: 1))
            for _ in 0..<2 {
                rows.append(ScoredExample(prompt: prompt, response: shuffled.map(String.init).joined(), reward: 0))
            }
        }
        let pairs = preferencePairs(fromScored: rows)
        // Two pairs per prompt (more where a prompt came up twice), the sorted answer always chosen.
        #expect(pairs.count >= 2 * rows.count / 3)
        #expect(pairs.allSatisfy { $0.chosen == String($0.chosen.sorted()) && $0.rejected != $0.chosen })
        var config = RewardModelTrainerConfig()
        config.steps = 120
        config.batchSize = 32
        config.evaluationInterval = 0
        let result = try RewardModelTrainer(config: config, pairs: pairs).train(events: { _ in })
        print("reward model on scored rows: held-out accuracy \(result.accuracy)")
        #expect(result.accuracy >= 0.8, "held-out accuracy \(result.accuracy)")
    }

    @Test func sampledCompletionsAreSeededAndScoredByTheSource() throws {
        var generator = SeededGenerator(seed: 2)
        var model = TransformerConfig.tokenPolicySmall
        model.vocabularySize = TokenTaskCodec().vocabulary.size
        let policy = TransformerPolicy(config: model, generator: &generator)
        let task = try TaskRegistry.task(named: "sort")
        let reward = RewardSource(components: [.init(name: "task", weight: 1, scorer: .verifier(task)),
                                               .init(name: "length", weight: -0.1, scorer: .length)])
        func sample() throws -> [ScoredCompletionGroup] {
            try sampleScoredCompletions(policy: policy, task: task, reward: reward, prompts: 70, samplesPerPrompt: 3,
                                        maxNewTokens: 8, temperature: 1, seed: 5)
        }
        let groups = try sample()
        // Random weights sample special tokens too; those completions are left out of their group.
        #expect(groups.count == 70 && groups.allSatisfy { $0.completions.count == $0.rewards.count })
        #expect(groups.map(\.completions.count).reduce(0, +) > 70, "most completions have a text")
        #expect(try sample() == groups)
        #expect(groups.allSatisfy { !PromptSplit.isHeldOut($0.prompt) })
        let codec = TokenTaskCodec()
        for group in groups.prefix(20) {
            for (text, value) in zip(group.completions, group.rewards) {
                // Length counts EOS when the completion stopped on it (within 8 tokens).
                let tokens = try codec.vocabulary.encode(text).count
                let verifier = try task.reward(prompt: group.prompt, completion: text)
                let candidates = [verifier - 0.1 * Double(tokens + 1), verifier - 0.1 * Double(tokens)]
                #expect(candidates.contains { abs($0 - value) < 1e-12 }, "\(text): \(value)")
            }
        }
    }
}
