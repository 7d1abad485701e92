import Testing
import Randomness
@testable import Tasks

@Suite struct TaskRewardTests {
    @Test func sortRewardIsPositionalFractionOfFirstSix() throws {
        let task = try SortTask()
        let prompt = "315204="
        #expect(try task.target(for: prompt) == "012345")
        #expect(try task.reward(prompt: prompt, completion: "012345") == 1)
        #expect(try task.isExactMatch(prompt: prompt, completion: "012345"))
        #expect(try task.reward(prompt: prompt, completion: "012354") == 4.0 / 6)
        #expect(try task.reward(prompt: prompt, completion: "012") == 3.0 / 6)  // shorter: only its positions
        #expect(try task.reward(prompt: prompt, completion: "543210") == 0)
        #expect(try task.reward(prompt: prompt, completion: "") == 0)
        #expect(try task.reward(prompt: prompt, completion: "0123459") == 1)  // anchor looks at 6 tokens only
        #expect(try !task.isExactMatch(prompt: prompt, completion: "0123459"))
        #expect(try task.reward(prompt: "001155=", completion: "001155") == 1)
        #expect(throws: TaskError.self) { try task.reward(prompt: "3152=", completion: "") }
        #expect(throws: TaskError.self) { try task.reward(prompt: "315209=", completion: "") }
    }

    @Test func reverseAndCopyCountMissingAndExtraCharacters() throws {
        let reverse = try TransformTask(.reverse)
        #expect(try reverse.reward(prompt: "1234=", completion: "4321") == 1)
        #expect(try reverse.reward(prompt: "1234=", completion: "4311") == 0.75)
        #expect(try reverse.reward(prompt: "1234=", completion: "43") == 0.5)
        #expect(try reverse.reward(prompt: "1234=", completion: "43210000") == 0.5)
        #expect(try reverse.reward(prompt: "1234=", completion: "1234") == 0)
        #expect(try reverse.reward(prompt: "1234=", completion: "") == 0)

        let copyLetters = try TransformTask(.copy, config: .init(alphabet: .letters))
        #expect(try copyLetters.reward(prompt: "abpc=", completion: "abpc") == 1)
        #expect(try copyLetters.reward(prompt: "abpc=", completion: "abpd") == 0.75)
        #expect(try copyLetters.isExactMatch(prompt: "abpc=", completion: "abpc"))
        #expect(throws: TaskError.self) { try copyLetters.reward(prompt: "12=", completion: "12") }
    }

    @Test func additionCreditsDigitsRightAligned() throws {
        let task = try AdditionTask()
        #expect(try task.target(for: "47|385=") == "432")
        #expect(try task.reward(prompt: "47|385=", completion: "432") == 1)
        #expect(try task.reward(prompt: "47|385=", completion: "532") == 2.0 / 3)  // wrong hundreds
        #expect(try task.reward(prompt: "47|385=", completion: "32") == 2.0 / 3)  // dropped a digit on the left
        #expect(try task.reward(prompt: "47|385=", completion: "1432") == 0.75)  // extra digit
        #expect(try task.reward(prompt: "47|385=", completion: "123") == 0)
        #expect(try task.reward(prompt: "47|385=", completion: "") == 0)
        #expect(try task.reward(prompt: "999|1=", completion: "1000") == 1)
        #expect(throws: TaskError.self) { try task.reward(prompt: "47+385=", completion: "432") }
        #expect(throws: TaskError.self) { try task.reward(prompt: "047|3=", completion: "50") }
    }

    @Test func digitSumPrefersCorrectThenShorter() throws {
        let task = try DigitSumTask()
        #expect(try task.target(for: "17=") == "89")
        #expect(try task.reward(prompt: "17=", completion: "89") == 1)
        #expect(try task.reward(prompt: "17=", completion: "98") == 1)
        #expect(try task.reward(prompt: "17=", completion: "4355") == 0.75)  // correct, twice minimal length
        #expect(try task.isExactMatch(prompt: "17=", completion: "98"))
        #expect(try !task.isExactMatch(prompt: "17=", completion: "4355"))
        let nearlyRight = try task.reward(prompt: "17=", completion: "88")  // sums to 16
        #expect(abs(nearlyRight - 0.4 * (16.0 / 17)) < 1e-12)
        let longestCorrect = try task.reward(prompt: "17=", completion: "11111111234")  // 11 digits
        #expect(longestCorrect > 0.5 && longestCorrect > nearlyRight)
        #expect(try task.reward(prompt: "17=", completion: "") == 0)
        #expect(try task.reward(prompt: "17=", completion: "8a9") == 0)
        #expect(try task.reward(prompt: "17=", completion: "0000000000089") == 0)  // over max length
        #expect(throws: TaskError.self) { try task.reward(prompt: "99=", completion: "") }
    }

    @Test func registryFindsEveryNameAndNamesTheChoicesOtherwise() throws {
        for name in TaskRegistry.names {
            let task = try TaskRegistry.task(named: name)
            var generator = SeededGenerator(seed: 3)
            for _ in 0..<50 {
                let example = task.makePrompt(using: &generator)
                #expect(
                    try task.reward(prompt: example.prompt, completion: task.target(for: example.prompt)) == 1,
                    "\(name)")
                let referenceReward = try task.reward(prompt: example.prompt, completion: example.reference)
                #expect(name == "digitsum" ? referenceReward > 0.5 : referenceReward == 1, "\(name) \(example)")
                #expect(example.reference.count <= task.maxCompletionLength)
                #expect(throws: Never.self) { try Vocabulary.anchor.encode(example.prompt + example.reference) }
            }
        }
        do {
            _ = try TaskRegistry.task(named: "sorting")
            Issue.record("lookup accepted an unknown name")
        } catch {
            #expect(error.description.contains("sort, reverse"))
        }
    }

    @Test func invalidConfigurationsAreRefused() {
        #expect(throws: TaskError.self) { try SortTask(config: .init(length: 0)) }
        #expect(throws: TaskError.self) { try SortTask(config: .init(digitRange: 3...12)) }
        #expect(throws: TaskError.self) { try DigitSumTask(config: .init(targetRange: 2...40, maxLength: 12)) }
        #expect(throws: TaskError.self) { try AdditionTask(config: .init(operandDigits: 0...2)) }
    }
}
