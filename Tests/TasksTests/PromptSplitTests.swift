import Testing
import Randomness
import Tasks

/// Training and held-out prompts are disjoint by construction (`PromptSplit`): for every registered
/// task, nothing `makePrompt` draws is held out and everything `makeHeldOutPrompt` draws is, and for
/// `sort` the split covers the whole prompt space with no prompt on both sides.
@Suite struct PromptSplitTests {
    @Test(arguments: TaskRegistry.names)
    func trainingAndHeldOutPromptsNeverMeet(name: String) throws {
        let task = try TaskRegistry.task(named: name)
        var generator = SeededGenerator(seed: 1)
        let training = Set((0..<4_000).map { _ in task.makePrompt(using: &generator).prompt })
        let heldOut = Set((0..<512).map { _ in task.makeHeldOutPrompt(using: &generator).prompt })
        #expect(training.isDisjoint(with: heldOut), "\(name): \(training.intersection(heldOut).sorted().prefix(5))")
        #expect(!training.contains { PromptSplit.isHeldOut($0) })
        #expect(heldOut.allSatisfy { PromptSplit.isHeldOut($0) })
        // Both sides are usable: the held-out prompts are more than a handful where the space allows.
        #expect(heldOut.count >= min(2, training.count), "\(name): \(heldOut.count) distinct held-out prompts")
        // Held-out prompts are well-formed prompts of the task.
        for prompt in heldOut { _ = try task.target(for: prompt) }
    }

    /// `sort`'s 6⁶ prompts: every one is on exactly one side, about one in eight held out; the 256
    /// evaluation prompts a trainer draws can never come up in training.
    @Test func sortPromptSpaceIsSplitOnceAndForAll() throws {
        var heldOut = 0, total = 0
        var digits = [Int](repeating: 0, count: 6)
        repeat {
            let prompt = digits.map(String.init).joined() + "="
            if PromptSplit.isHeldOut(prompt) { heldOut += 1 }
            total += 1
            var position = 5
            while position >= 0 {
                digits[position] += 1
                if digits[position] < 6 { break }
                digits[position] = 0
                position -= 1
            }
            if position < 0 { break }
        } while true
        #expect(total == 46_656)
        // One in eight (the hash is fixed: 5,907 of 46,656).
        #expect(heldOut == 5_907, "\(heldOut) of \(total) held out")
        let task = try TaskRegistry.task(named: "sort")
        var training = SeededGenerator(seed: 7), evaluation = SeededGenerator(seed: 8)
        let evaluationPrompts = Set((0..<256).map { _ in task.makeHeldOutPrompt(using: &evaluation).prompt })
        let trainingPrompts = Set((0..<(600 * 8)).map { _ in task.makePrompt(using: &training).prompt })
        #expect(evaluationPrompts.isDisjoint(with: trainingPrompts))
    }
}
