import Testing
@testable import Tasks

@Suite struct VocabularyTests {
    let vocabulary = Vocabulary.anchor

    @Test func anchorLayoutMatchesTRL() {
        #expect(vocabulary.size == 32)
        #expect(vocabulary.tokens[0...4] == ["<pad>", "<bos>", "<eos>", "<unk>", "="])
        #expect(vocabulary.tokens[5] == "0" && vocabulary.tokens[14] == "9")
        #expect(vocabulary.tokens[15] == "a" && vocabulary.tokens[30] == "p")
        #expect(vocabulary.tokens[31] == "|")
        #expect(vocabulary.padID == 0 && vocabulary.bosID == 1 && vocabulary.eosID == 2 && vocabulary.unkID == 3)
    }

    @Test func roundTrip() throws {
        let text = "315204=|abcdefghijklmnop9876"
        let ids = try vocabulary.encode(text)
        #expect(ids.count == text.count)
        #expect(vocabulary.decode(ids) == text)
        let framed = try vocabulary.encode("012=", addBOS: true, addEOS: true)
        #expect(framed == [1, 5, 6, 7, 4, 2])
        #expect(vocabulary.decode(framed) == "<bos>012=<eos>")
    }

    @Test func refusesCharactersOutsideTheVocabulary() {
        #expect(throws: VocabularyError.unknownCharacter("+", position: 2, text: "12+3=")) {
            try vocabulary.encode("12+3=")
        }
        #expect(throws: VocabularyError.self) { try vocabulary.encode("q") }
        #expect(throws: VocabularyError.self) { try vocabulary.encode("A") }
        do {
            _ = try vocabulary.encode("ab z")
            Issue.record("encode accepted a space")
        } catch {
            #expect(error.description.contains("\" \" at position 2"))
        }
    }

    @Test func completionTextStopsAtEOS() throws {
        let generated = try vocabulary.encode("0123") + [vocabulary.eosID] + (try vocabulary.encode("99"))
        #expect(vocabulary.completionText(fromGenerated: generated) == "0123")
        #expect(vocabulary.completionText(fromGenerated: [vocabulary.eosID]) == "")
        // A generated special keeps its position (as in TRL's token-position rewards) and matches nothing.
        let placeholder = Vocabulary.specialPlaceholder
        #expect(
            vocabulary.completionText(fromGenerated: [vocabulary.padID, 5, vocabulary.unkID, 6])
                == "\(placeholder)0\(placeholder)1")
        #expect(!vocabulary.contains(placeholder))
    }
}
