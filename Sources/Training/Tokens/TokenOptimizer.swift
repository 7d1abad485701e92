import Autograd
import NN

/// The optimizer step every token trainer takes: AdamW (Loshchilov & Hutter 2019) whose learning rate
/// follows the lab's one `LearningRateSchedule`, after a global gradient-norm clip.
final class TokenOptimizer {
    let adam: AdamW
    let parameters: [Tensor]
    /// The base learning rate the schedule scales.
    let baseLearningRate: Double
    let schedule: LearningRateSchedule
    /// The global gradient-norm clip (`.infinity`: none).
    let maximumGradientNorm: Float

    /// `decayMask`: which parameters weight decay applies to (nil: matrices and embeddings).
    init(parameters: [Tensor], adam: AdamW.Config, baseLearningRate: Double, schedule: LearningRateSchedule,
         maximumGradientNorm: Float, decayMask: [Bool]? = nil) {
        self.adam = AdamW(parameters: parameters, config: adam, decayMask: decayMask)
        self.parameters = parameters
        self.baseLearningRate = baseLearningRate
        self.schedule = schedule
        self.maximumGradientNorm = maximumGradientNorm
    }

    /// The learning rate in force.
    var learningRate: Float { adam.learningRate }
    /// The schedule's position (1-based) of the update under way, as last set by `scheduleLearningRate`.
    private(set) var scheduledStep = 1

    /// Sets the learning rate of update `step` (1-based).
    func scheduleLearningRate(step: Int) {
        scheduledStep = step
        adam.learningRate = schedule.rate(base: baseLearningRate, step: step - 1)
    }

    /// Clips the global norm of the parameters' gradients, refuses a non-finite one, and steps. Returns
    /// the norm before clipping.
    @discardableResult
    func step(at step: Int) throws -> Float {
        let norm = clipGradientNorm(parameters, maximumNorm: maximumGradientNorm)
        guard norm.isFinite else { throw TrainingError.diverged(step: step, quantity: "the gradient norm") }
        adam.step()
        return norm
    }
}

/// The learning-rate schedule of a token trainer's config: linear decay to 0 over the run (TRL's default
/// scheduler), or constant.
func tokenLearningRateSchedule(decay: Bool, steps: Int) -> LearningRateSchedule {
    decay ? .linear(totalSteps: steps) : .constant
}

/// The final figures of a token trainer that evaluates on a task (GRPO, RLOO, token PPO, SFT).
public struct TokenTrainingResult: Codable, Sendable, Equatable {
    public var evaluation: TokenEvaluation
    public var steps: Int
    /// Completions sampled (RL) or sequences trained on (SFT).
    public var completions: Int
    public var wallSeconds: Double
    /// Seconds spent sampling vs updating.
    public var samplingSeconds: Double
    public var updateSeconds: Double
}

extension ContinuousClock.Instant {
    /// Seconds from this instant until now, on the continuous clock.
    var secondsUntilNow: Double {
        let elapsed = duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }
}
