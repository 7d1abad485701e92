/// A wall-clock allowance for one training run: "same compute" as a study's budget, beside "same data"
/// (a number of samples, which a trainer's step count already sets).
///
/// Every trainer's loop asks `isSpent` once per update, after the update; when it is spent, that update
/// becomes the last one: the trainer evaluates, checkpoints and returns as if it had reached its step
/// count, and the samples it used are the `samplesSeen` of its last metrics. Unlike `shouldStop` (Ctrl-C,
/// which throws and leaves the run interrupted), a spent budget finishes the run.
///
/// `unlimited` never reads the clock, so a run without a seconds budget takes exactly the steps and
/// random draws it always did: seeded results stay bit-identical.
public struct WallClockBudget: Sendable {
    /// The allowance in seconds; nil: no limit.
    public let seconds: Double?
    private let start: ContinuousClock.Instant

    /// Starts the allowance now: create it just before calling the trainer's `train`.
    public init(seconds: Double?) {
        self.seconds = seconds
        start = ContinuousClock.now
    }

    public static var unlimited: WallClockBudget { WallClockBudget(seconds: nil) }

    /// True once `seconds` have passed since the budget was created (always false without a limit).
    public var isSpent: Bool {
        guard let seconds else { return false }
        return start.duration(to: .now) >= .seconds(seconds)
    }
}
