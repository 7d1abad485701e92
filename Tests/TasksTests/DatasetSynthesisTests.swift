import Testing
import Randomness
@testable import Tasks

@Suite struct DatasetSynthesisTests {
    @Test func sortPromptsHaveTheAnchorFormat() throws {
        let task = try SortTask()
        var generator = SeededGenerator(seed: 11)
        let rows = makePromptDataset(task: task, count: 200, using: &generator)
        var digitsSeen = Set<Character>()
        for row in rows {
            let characters = Array(row.prompt)
            #expect(characters.count == 7 && characters.last == "=")
            #expect(characters.dropLast().allSatisfy { ("0"..."5").contains($0) })
            digitsSeen.formUnion(characters.dropLast())
            #expect(row.reference == String(characters.dropLast().sorted()))
        }
        #expect(digitsSeen.count == 6)
    }

    @Test func promptsAreDeterminedBySeed() throws {
        for name in TaskRegistry.names {
            let task = try TaskRegistry.task(named: name)
            var first = SeededGenerator(seed: 5), second = SeededGenerator(seed: 5), other = SeededGenerator(seed: 6)
            let a = makePromptDataset(task: task, count: 30, using: &first)
            let b = makePromptDataset(task: task, count: 30, using: &second)
            let c = makePromptDataset(task: task, count: 30, using: &other)
            #expect(a == b, "\(name)")
            #expect(a != c, "\(name)")
            var pairsFirst = SeededGenerator(seed: 9), pairsSecond = SeededGenerator(seed: 9)
            #expect(makePreferencePairs(task: task, count: 20, using: &pairsFirst)
                == makePreferencePairs(task: task, count: 20, using: &pairsSecond), "\(name)")
        }
    }

    @Test func preferencePairsNeverTieAndScoresAreTheTaskRewards() throws {
        for name in TaskRegistry.names {
            let task = try TaskRegistry.task(named: name)
            var generator = SeededGenerator(seed: 21)
            let pairs = makePreferencePairs(task: task, count: 300, using: &generator)
            #expect(pairs.count == 300)
            var perfectChosen = 0
            for pair in pairs {
                #expect(pair.chosenScore > pair.rejectedScore, "\(name) \(pair)")
                #expect(try task.reward(prompt: pair.prompt, completion: pair.chosen) == pair.chosenScore)
                #expect(try task.reward(prompt: pair.prompt, completion: pair.rejected) == pair.rejectedScore)
                #expect((0...1).contains(pair.chosenScore) && (0...1).contains(pair.rejectedScore))
                if pair.chosenScore == 1 { perfectChosen += 1 }
            }
            // Both kinds are present: perfect-vs-near-miss and imperfect-vs-imperfect.
            #expect(perfectChosen > 60 && perfectChosen < 300, "\(name): \(perfectChosen) perfect chosen")
        }
    }

    @Test func digitSumPairsTeachBrevityAmongCorrectAnswers() throws {
        let task = try DigitSumTask()
        var generator = SeededGenerator(seed: 2)
        let pairs = makePreferencePairs(task: task, count: 300, using: &generator)
        let bothCorrect = pairs.filter { $0.rejectedScore > 0.5 }
        #expect(bothCorrect.count > 20)
        for pair in bothCorrect { #expect(pair.chosen.count < pair.rejected.count) }
    }
}
