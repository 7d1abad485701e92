import Objectives
import Policies
import Tasks

/// The reward a token rollout gives each completion: a weighted sum Σ_k w_k·r_k of components, each one
/// of the task's verifier (in [0, 1]), a reward-model run's score, or the completion's length in tokens
/// (EOS included) — `--reward task:1,rm:RUN:0.5,length:-0.05`. GRPO, RLOO, token PPO and online DPO all
/// score through it. Each component's raw values are logged on their own as TRL's
/// `rewards/<name>/mean` and `/std` (TRL logs each reward function so), so that a reward model gamed
/// against the verifier shows.
public struct RewardSource {
    /// What one component reads.
    public enum Scorer {
        /// The task's verifiable reward of the completion's text.
        case verifier(any SequenceTask)
        /// A trained reward model's value head at the last token of prompt + completion.
        case rewardModel(RewardModelScorer)
        /// Completion tokens, EOS included (`completions/mean_length`'s unit).
        case length
    }

    /// One term w·r: its logged name, its weight w and its scorer.
    public struct Component {
        public var name: String
        public var weight: Double
        public var scorer: Scorer
        public init(name: String, weight: Double, scorer: Scorer) {
            self.name = name
            self.weight = weight
            self.scorer = scorer
        }
    }

    public var components: [Component]

    public init(components: [Component]) {
        precondition(!components.isEmpty, "a reward needs at least one component")
        self.components = components
    }

    /// The task's verifier alone (weight 1), or a reward model alone: what `--task` and `--reward RUN` give.
    public init(task: any SequenceTask, rewardModel: TransformerPolicy? = nil) {
        if let rewardModel {
            self.init(components: [Component(name: "reward_model", weight: 1,
                                             scorer: .rewardModel(RewardModelScorer(model: rewardModel)))])
        } else {
            self.init(components: [Component(name: "task", weight: 1, scorer: .verifier(task))])
        }
    }

    /// Each component's raw values, and the weighted sum, of each row.
    func score(prompts: [TaskPrompt], encodedPrompts: [[Int]], completions: [[Int]], texts: [String]) throws
        -> (total: [Double], components: [RewardComponentValues]) {
        var total = [Double](repeating: 0, count: prompts.count)
        var values: [RewardComponentValues] = []
        for component in components {
            let raw: [Double]
            switch component.scorer {
            case .verifier(let task):
                raw = try zip(prompts, texts).map { try task.reward(prompt: $0.prompt, completion: $1) }
            case .rewardModel(let scorer):
                raw = scorer.scores(prompts: encodedPrompts, completions: completions)
            case .length:
                raw = completions.map { Double($0.count) }
            }
            for row in total.indices { total[row] += component.weight * raw[row] }
            values.append(RewardComponentValues(name: component.name, values: raw))
        }
        return (total, values)
    }
}

/// One reward component's raw values over a generation batch's rows.
struct RewardComponentValues {
    var name: String
    var values: [Double]
}
