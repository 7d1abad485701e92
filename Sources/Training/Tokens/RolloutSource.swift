import Tasks

/// Where a token RL run's training prompts, held-out prompts and rewards come from: the task's prompt
/// generator and verifier (the default), or the rows of a stored prompt dataset (`--dataset PROMPTS`) with
/// any `RewardSource`.
///
/// A stored dataset is split by a hash of each prompt's text: a row is held out when the hash falls in one
/// tenth of its range (`StoredPromptSplit`), so that a prompt that occurs twice is on one side only and the
/// split does not move with the seed or the row order. Training steps draw their prompts uniformly, with
/// replacement, from the other rows; the greedy evaluation decodes the held-out rows (the first
/// `--eval-prompts` of them, in the dataset's order) and scores them with the task's verifier.
public struct RolloutSource {
    /// The reward of each completion.
    public var reward: RewardSource
    /// Prompts a training step draws from (uniformly, with replacement); nil: the task's generator.
    public var trainingPrompts: [TaskPrompt]?
    /// Prompts the greedy evaluation decodes; nil: the task's held-out prompts.
    public var evaluationPrompts: [TaskPrompt]?

    public init(reward: RewardSource, trainingPrompts: [TaskPrompt]? = nil, evaluationPrompts: [TaskPrompt]? = nil) {
        self.reward = reward
        self.trainingPrompts = trainingPrompts
        self.evaluationPrompts = evaluationPrompts
    }

    /// The rows of a stored prompt dataset, split as above. Refuses the first row with text outside the
    /// vocabulary (by its 1-based row number and character), and a dataset with no training or no held-out row.
    public static func promptDataset(_ rows: [TaskPrompt], reward: RewardSource) throws -> RolloutSource {
        _ = try TokenTaskCodec().encodeRows(rows) { codec, row in try codec.encodePrompt(row.prompt) }
        let heldOut = rows.filter { StoredPromptSplit.isHeldOut($0.prompt) }
        let training = rows.filter { !StoredPromptSplit.isHeldOut($0.prompt) }
        guard !training.isEmpty, !heldOut.isEmpty else {
            throw TrainingError.invalidConfiguration(
                "the dataset's \(rows.count) prompts give \(training.count) training and \(heldOut.count) held-out "
                    + "prompts (one distinct prompt in 10 is held out) — use a dataset with more distinct prompts")
        }
        return RolloutSource(reward: reward, trainingPrompts: training, evaluationPrompts: heldOut)
    }
}

/// The held-out rule of stored prompt datasets: the tasks' prompt hash (`PromptSplit.promptHash`) with a salt
/// of its own, modulo 10. The salt keeps it independent of the tasks' split (a dataset generated from a task
/// holds only the task's training prompts, which `PromptSplit` would never hold out).
enum StoredPromptSplit {
    static let heldOutShare: UInt64 = 10

    static func isHeldOut(_ prompt: String) -> Bool {
        PromptSplit.promptHash(prompt, salt: 0x5107_ED00_0000_0001) % heldOutShare == 0
    }
}
