/// The lifecycle of a training run.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, finished, failed, interrupted
}

/// What a trainer declares when it starts a run.
public struct RunSpec: Sendable {
    /// Defaults to CleanRL's `{target}__{algorithm}__{seed}__{unixtime}`.
    public var name: String?
    public var algorithm: String
    /// Environment id (`CartPole-v1`) or task name (`sort`).
    public var target: String
    public var datasetID: Int64?
    /// The run this one starts from (`--init`) or uses as reference policy (`--ref`).
    public var parentRunID: Int64?
    public var configJSON: String
    public var seed: UInt64

    public init(
        name: String? = nil, algorithm: String, target: String, datasetID: Int64? = nil, parentRunID: Int64? = nil,
        configJSON: String, seed: UInt64
    ) {
        self.name = name
        self.algorithm = algorithm
        self.target = target
        self.datasetID = datasetID
        self.parentRunID = parentRunID
        self.configJSON = configJSON
        self.seed = seed
    }
}

/// A run as stored.
public struct RunInfo: Equatable, Sendable, Codable {
    public var id: Int64
    public var name: String
    public var algorithm: String
    public var target: String
    public var datasetID: Int64?
    public var parentRunID: Int64?
    public var configJSON: String
    public var seed: UInt64
    public var status: RunStatus
    public var error: String?
    public var startedAt: Double
    public var finishedAt: Double?
}

/// One scalar logged at a training step. Names are namespaced as in CleanRL / TRL
/// (`charts/episodic_return`, `losses/approx_kl`, `rewards/margins`, `reward`, …).
public struct MetricPoint: Equatable, Sendable, Codable {
    public var step: Int
    /// Environment steps (control) or completions / pairs (tokens) consumed so far: the budget axis.
    public var samplesSeen: Int
    public var name: String
    public var value: Double
    public init(step: Int, samplesSeen: Int, name: String, value: Double) {
        self.step = step
        self.samplesSeen = samplesSeen
        self.name = name
        self.value = value
    }
}

/// A completion the policy generated while training, kept for `policylab inspect`. The details after
/// `logprob` are nil where the trainer did not record them (runs of older builds, SFT and DPO samples).
public struct SampleRecord: Equatable, Sendable, Codable {
    public var step: Int
    public var prompt: String
    public var completion: String
    public var reward: Double?
    public var logprob: Double?
    /// `rollout` (a training step's generation batch) or `evaluation` (greedy, held-out prompts).
    public var source: String?
    /// The prompt's index among the prompts logged at the step; a rollout's G completions of a prompt share it.
    public var group: Int?
    public var advantage: Double?
    /// Completion tokens, EOS included.
    public var length: Int?
    /// Whether the completion hit the length limit without EOS.
    public var truncated: Bool?
    /// Token PPO: the value estimate before the first completion token.
    public var value: Double?
    /// Token PPO: the per-token KL to the reference of each completion token.
    public var tokenKL: [Double]?

    public init(
        step: Int, prompt: String, completion: String, reward: Double? = nil, logprob: Double? = nil,
        source: String? = nil, group: Int? = nil, advantage: Double? = nil, length: Int? = nil,
        truncated: Bool? = nil, value: Double? = nil, tokenKL: [Double]? = nil
    ) {
        self.step = step
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.logprob = logprob
        self.source = source
        self.group = group
        self.advantage = advantage
        self.length = length
        self.truncated = truncated
        self.value = value
        self.tokenKL = tokenKL
    }
}

/// Policy weights (and optionally optimiser state) at a step, with the model config that reads them.
public struct Checkpoint: Equatable, Sendable {
    public var runID: Int64
    public var step: Int
    public var configJSON: String
    public var weights: [UInt8]
    public var optimizer: [UInt8]?
    public var createdAt: Double
}
