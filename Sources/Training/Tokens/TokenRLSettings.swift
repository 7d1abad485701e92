/// The checks of the settings GRPO, RLOO and token PPO share (budget, sampling, AdamW), worded with the
/// CLI's flag names.
enum TokenRLSettings {
    static func validate(steps: Int, promptsPerStep: Int, maxNewTokens: Int, temperature: Float,
                         learningRate: Double, maxGradientNorm: Double?, adamBeta1: Double, adamBeta2: Double,
                         adamEpsilon: Double, weightDecay: Double) throws {
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
        try require(maxGradientNorm.map { $0 > 0 && $0.isFinite } ?? true, "--max-grad-norm must be > 0")
    }
}
