// Training and held-out prompts never overlap: each task's prompt space is split once, by a hash of
// the prompt text, into a training part (`makePrompt`) and a held-out part (`makeHeldOutPrompt`) that
// evaluation draws from. A held-out score then measures what the policy does on prompts it has never
// been trained on, whatever the seeds and budgets (drawing both from one generator let about 10 % of
// `sort`'s 256 held-out prompts also come up in training).

import Randomness

/// The deterministic split of every task's prompts into training and held-out prompts.
public enum PromptSplit {
    /// One prompt in `heldOutShare` is held out (≈ 12.5 %: 5,907 of `sort`'s 46,656 prompts; 2 of
    /// `digitsum`'s 19 targets).
    public static let heldOutShare: UInt64 = 8

    /// True when `prompt` belongs to the held-out part: `promptHash(prompt) % heldOutShare == 0`.
    public static func isHeldOut(_ prompt: String) -> Bool {
        promptHash(prompt) % heldOutShare == 0
    }

    /// FNV-1a over the prompt's UTF-8 bytes from the offset basis xor `salt`, finished with SplitMix64's
    /// mixer so that the low bits depend on every byte. A rule of its own (e.g. stored datasets' held-out
    /// rule) takes another salt, which makes its split independent of this one.
    public static func promptHash(_ prompt: String, salt: UInt64 = 0) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ salt
        for byte in prompt.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        return hash
    }

    /// Draws from `draw` until `accept` holds; a task whose space has no prompt of the wanted side is
    /// a programming error in the task's configuration (the registered tasks have both sides).
    static func draw(
        _ task: some SequenceTask, side: String, using generator: inout SeededGenerator,
        accept: (TaskPrompt) -> Bool
    ) -> TaskPrompt {
        for _ in 0..<100_000 {
            let example = task.drawPrompt(using: &generator)
            if accept(example) { return example }
        }
        preconditionFailure(
            "task \(task.name): 100,000 draws gave no \(side) prompt; its prompt space is too small to split")
    }
}

extension SequenceTask {
    /// A training prompt and its reference answer: never one of the held-out prompts.
    public func makePrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        PromptSplit.draw(self, side: "training", using: &generator) { !PromptSplit.isHeldOut($0.prompt) }
    }

    /// A held-out prompt (for evaluation): never one that `makePrompt` can draw.
    public func makeHeldOutPrompt(using generator: inout SeededGenerator) -> TaskPrompt {
        PromptSplit.draw(self, side: "held-out", using: &generator) { PromptSplit.isHeldOut($0.prompt) }
    }
}
