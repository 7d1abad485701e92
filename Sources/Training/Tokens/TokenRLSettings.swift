import NN

/// The settings GRPO, RLOO and token PPO share (task, budget, sampling, AdamW, evaluation), which
/// `TokenRLLoop` reads; each algorithm's config declares them with its own documentation.
protocol TokenRLSettings {
    var task: String { get }
    var seed: UInt64 { get }
    var model: TransformerConfig { get }
    var steps: Int { get }
    var promptsPerStep: Int { get }
    var maxNewTokens: Int { get }
    var temperature: Float { get }
    var learningRate: Double { get }
    var decayLearningRate: Bool { get }
    /// The global gradient-norm clip; nil: none.
    var gradientNormLimit: Double? { get }
    var adamBeta1: Double { get }
    var adamBeta2: Double { get }
    var adamEpsilon: Double { get }
    var weightDecay: Double { get }
    var evaluationPrompts: Int { get }
    var evaluationInterval: Int { get }
}

extension TokenRLSettings {
    /// The checks of the shared settings, worded with the CLI's flag names.
    func validateSharedSettings() throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        try require(steps > 0 && promptsPerStep > 0, "--steps and --prompts must be positive")
        try require(maxNewTokens > 0, "--max-new-tokens must be positive")
        try require(temperature > 0 && temperature.isFinite, "--temperature must be > 0")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be > 0")
        try require((0..<1).contains(adamBeta1) && (0..<1).contains(adamBeta2),
                    "--adam-beta1 and --adam-beta2 must be in [0, 1)")
        try require(adamEpsilon > 0 && adamEpsilon.isFinite, "--adam-epsilon must be > 0")
        try require(weightDecay >= 0 && weightDecay.isFinite, "--weight-decay must be ≥ 0")
        try require(gradientNormLimit.map { $0 > 0 && $0.isFinite } ?? true, "--max-grad-norm must be > 0")
    }
}
