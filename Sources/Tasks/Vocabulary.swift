// Character vocabulary shared by every toy sequence task.
//
// Reference: TRL's anchor tokenizer for its toy sorting task, reproduced token for token so that
// runs here and there are comparable. 32 tokens, ids 0..31 in this order:
//
//   <pad> <bos> <eos> <unk>  =  0 1 2 3 4 5 6 7 8 9  a b c d e f g h i j k l m n o p  |
//   4 specials             + 1 + 10 digits          + 16 letters (a–p)            + 1  = 32
//
// There is no `+`; tasks that need a separator (addition) use `|`.

/// A fixed character-level vocabulary with PAD, BOS, EOS and UNK specials.
public struct Vocabulary: Sendable, Equatable {
    /// The token strings, indexed by id. Specials are written `<pad>`, `<bos>`, `<eos>`, `<unk>`.
    public let tokens: [String]
    /// Id of each ordinary (one-character) token.
    private let idByCharacter: [Character: Int]

    public let padID: Int
    public let bosID: Int
    public let eosID: Int
    public let unkID: Int

    /// Number of tokens (V in shape comments).
    public var size: Int { tokens.count }

    /// TRL's 32-token anchor vocabulary (see the file header).
    public static let anchor: Vocabulary = {
        let specials = ["<pad>", "<bos>", "<eos>", "<unk>"]
        let characters = Array("=0123456789abcdefghijklmnop|")
        return Vocabulary(specials: specials, characters: characters)
    }()

    /// Builds a vocabulary whose first four ids are PAD, BOS, EOS, UNK followed by `characters`.
    public init(specials: [String], characters: [Character]) {
        precondition(specials.count == 4, "Vocabulary needs exactly 4 specials (pad, bos, eos, unk), got \(specials)")
        precondition(Set(characters).count == characters.count, "Vocabulary characters must be distinct: \(characters)")
        tokens = specials + characters.map { String($0) }
        var map: [Character: Int] = [:]
        for (offset, character) in characters.enumerated() { map[character] = specials.count + offset }
        idByCharacter = map
        padID = 0
        bosID = 1
        eosID = 2
        unkID = 3
    }

    /// True when `character` has its own token.
    public func contains(_ character: Character) -> Bool { idByCharacter[character] != nil }

    /// The id of `character`, or nil when it is outside the vocabulary.
    public func id(of character: Character) -> Int? { idByCharacter[character] }

    /// True for PAD, BOS, EOS and UNK.
    public func isSpecial(_ id: Int) -> Bool { id == padID || id == bosID || id == eosID || id == unkID }

    /// Token ids of `text`, one per character, optionally framed by BOS and EOS.
    /// Throws `VocabularyError.unknownCharacter` naming the first character that has no token.
    public func encode(_ text: String, addBOS: Bool = false, addEOS: Bool = false) throws(VocabularyError) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.count + 2)
        if addBOS { ids.append(bosID) }
        for (position, character) in text.enumerated() {
            guard let id = idByCharacter[character] else {
                throw .unknownCharacter(character, position: position, text: text)
            }
            ids.append(id)
        }
        if addEOS { ids.append(eosID) }
        return ids
    }

    /// Text of `ids`; specials are written by name (`<eos>`), so `decode(encode(s)) == s` for any
    /// in-vocabulary `s`. An id outside 0..<size is a programmer bug.
    public func decode<C: Collection>(_ ids: C) -> String where C.Element == Int {
        var text = ""
        for id in ids {
            precondition(id >= 0 && id < tokens.count, "token id \(id) is outside the vocabulary 0..<\(tokens.count)")
            text += tokens[id]
        }
        return text
    }

    /// Stands for a generated PAD, BOS or UNK in completion text: one character that is in no task's
    /// alphabet, so the special token keeps its position and never matches a target character.
    public static let specialPlaceholder: Character = "\u{FFFD}"

    /// The completion text of generated ids: one character per token before the first EOS (a completion
    /// is what the reward functions score). PAD, BOS and UNK become `specialPlaceholder` rather than being
    /// dropped: TRL's rewards score token positions, so a generated special costs its position instead of
    /// shifting the later tokens onto earlier targets.
    public func completionText<C: Collection>(fromGenerated ids: C) -> String where C.Element == Int {
        var text = ""
        for id in ids {
            precondition(id >= 0 && id < tokens.count, "token id \(id) is outside the vocabulary 0..<\(tokens.count)")
            if id == eosID { break }
            if isSpecial(id) { text.append(Self.specialPlaceholder); continue }
            text += tokens[id]
        }
        return text
    }
}

/// A text that cannot be tokenised.
public enum VocabularyError: Error, Equatable, CustomStringConvertible {
    case unknownCharacter(Character, position: Int, text: String)

    public var description: String {
        switch self {
        case let .unknownCharacter(character, position, text):
            let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
            return "character \"\(character)\" at position \(position) of \"\(shown)\" is not in the vocabulary — "
                + "use only = 0-9 a-p | (TRL's 32-token anchor vocabulary)"
        }
    }
}
