import Randomness

/// What an agent may do in an environment (Gymnasium's `action_space`).
public enum ActionSpace: Equatable, Sendable, CustomStringConvertible {
    /// Actions 0..<n.
    case discrete(Int)
    /// Real vectors inside [low, high] per component; out-of-range actions are clipped.
    case box(low: [Float], high: [Float])

    public var description: String {
        switch self {
        case .discrete(let n): "Discrete(\(n))"
        case .box(let low, let high):
            "Box(\(low.map { "\($0)" }.joined(separator: ",")) … \(high.map { "\($0)" }.joined(separator: ",")))"
        }
    }

    /// Number of action components (1 for discrete).
    public var dimension: Int {
        switch self {
        case .discrete: 1
        case .box(let low, _): low.count
        }
    }
}

/// An action for `Environment.step`.
public enum Action: Equatable, Sendable {
    case discrete(Int)
    case continuous([Double])
}

/// The result of one environment step (Gymnasium's `(obs, reward, terminated, truncated, info)`).
public struct StepResult: Equatable, Sendable {
    public var observation: [Float]
    public var reward: Double
    /// The episode reached a terminal state of the MDP (no bootstrapping past it).
    public var terminated: Bool
    /// The episode was cut by the time limit (the state is not terminal).
    public var truncated: Bool
}

/// Problems a caller can cause by passing an action or state the environment cannot take.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable {
    case actionOutOfSpace(environment: String, action: String, space: String)
    case wrongStateLength(environment: String, expected: Int, got: Int)
    case unknownEnvironment(id: String, known: [String])
    case episodeOver(environment: String)
    case invalidState(environment: String, state: String, expected: String)

    public var description: String {
        switch self {
        case .actionOutOfSpace(let id, let action, let space):
            "action \(action) is outside \(id)'s action space \(space) — give an action in the space"
        case .wrongStateLength(let id, let expected, let got):
            "\(id) has a state of \(expected) numbers but \(got) were given — "
                + "pass exactly \(expected) comma-separated values"
        case .unknownEnvironment(let id, let known):
            "unknown environment '\(id)' — choose one of \(known.joined(separator: ", "))"
        case .episodeOver(let id):
            "the \(id) episode has ended — reset the environment before stepping again"
        case .invalidState(let id, let state, let expected):
            "\(id) cannot start from \(state) — give \(expected)"
        }
    }
}

/// A Gymnasium-compatible episodic environment, time limit included (as `gymnasium.make` adds it).
public protocol Environment {
    /// Gymnasium id, e.g. `CartPole-v1`.
    var id: String { get }
    var observationSize: Int { get }
    var actionSpace: ActionSpace { get }
    /// Steps after which `truncated` is set (Gymnasium's registered `max_episode_steps`).
    var timeLimit: Int { get }
    /// Gymnasium's registered reward threshold for "solved", if any.
    var rewardThreshold: Double? { get }
    /// Steps taken since the last reset.
    var elapsedSteps: Int { get }
    /// The internal state (Gymnasium's `env.unwrapped.state`).
    var state: [Double] { get }

    /// Starts an episode from the documented reset distribution, drawing from `generator`.
    mutating func reset(generator: inout SeededGenerator) -> [Float]
    /// Starts an episode from a given internal state (for replaying reference traces).
    mutating func reset(state: [Double]) throws -> [Float]
    /// Advances one step.
    mutating func step(_ action: Action) throws -> StepResult
    /// The observation of the current state.
    func observation() -> [Float]
    /// The whole state mid-episode (internal state, steps taken, the generator of one that draws as it steps).
    var snapshot: EnvironmentSnapshot { get }
    /// Continues from a snapshot: the next step is the one the snapshotted environment would have taken.
    mutating func restore(_ snapshot: EnvironmentSnapshot) throws
}

/// An environment's whole state mid-episode, for an exact resume (`train … --resume`): Gymnasium's internal
/// state, the steps taken (the time limit counts them) and, for an environment that draws as it steps (the
/// queuing task), its generator.
public struct EnvironmentSnapshot: Codable, Sendable {
    public var state: [Double]
    public var elapsedSteps: Int
    public var generator: SeededGenerator?

    public init(state: [Double], elapsedSteps: Int, generator: SeededGenerator? = nil) {
        self.state = state
        self.elapsedSteps = elapsedSteps
        self.generator = generator
    }
}

extension Environment {
    /// The internal state and the steps taken (environments that draw only at reset).
    public var snapshot: EnvironmentSnapshot { EnvironmentSnapshot(state: state, elapsedSteps: elapsedSteps) }

    /// A continuing task (no episodes: it never terminates or truncates; solved for the average reward).
    public var isContinuing: Bool { timeLimit == Int.max }

    /// Checks a discrete action, or clips a continuous one to the box.
    func validated(_ action: Action) throws -> Action {
        switch (action, actionSpace) {
        case (.discrete(let a), .discrete(let n)):
            guard a >= 0 && a < n else {
                throw EnvironmentError.actionOutOfSpace(environment: id, action: "\(a)", space: actionSpace.description)
            }
            return action
        case (.continuous(let values), .box(let low, _)):
            guard values.count == low.count, values.allSatisfy({ $0.isFinite }) else {
                throw EnvironmentError.actionOutOfSpace(
                    environment: id, action: "\(values)", space: actionSpace.description)
            }
            return action
        case (.discrete(let a), .box):
            throw EnvironmentError.actionOutOfSpace(
                environment: id, action: "\(a) (discrete)", space: actionSpace.description)
        case (.continuous(let values), .discrete):
            // A whole-number scalar is accepted as a discrete action (e.g. from a command line).
            if values.count == 1, let a = Int(exactly: values[0]) { return try validated(.discrete(a)) }
            throw EnvironmentError.actionOutOfSpace(
                environment: id, action: "\(values)", space: actionSpace.description)
        }
    }

    func checkStateLength(_ state: [Double], _ expected: Int) throws {
        guard state.count == expected else {
            throw EnvironmentError.wrongStateLength(environment: id, expected: expected, got: state.count)
        }
    }
}
