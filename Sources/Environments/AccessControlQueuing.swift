import Randomness

/// The access-control queuing task of Sutton & Barto (2018), Example 10.2: a continuing task, solved
/// for the average reward r(π) rather than a discounted return.
///
/// Ten servers; one customer waits at the head of a queue with priority 1, 2, 4 or 8, drawn uniformly.
/// Each step, in this order:
/// 1. the decision: accepting the customer while a server is free pays its priority and takes a
///    server; rejecting pays 0 (with every server busy the customer is rejected whatever the action);
/// 2. each busy server frees itself independently with probability p = 0.06;
/// 3. the next customer's priority is drawn.
///
/// The state is (free servers 0…10, priority); the observation is its one-hot code over the 11 × 4
/// states (index `free · 4 + priorityIndex`), so a linear policy on it is a table. Being continuing, the
/// task never terminates or truncates (`timeLimit` is `Int.max`). The draws of steps 2–3 come from a
/// generator the environment owns: `reset(generator:)` splits it off the run's generator;
/// `reset(state:)` (for replays) seeds it with `replaySeed`.
public struct AccessControlQueuing: Environment {
    public static let identifier = "AccessControlQueuing-v0"
    /// The priorities, which are also the rewards of accepting.
    public static let priorities = [1, 2, 4, 8]
    public static let serverCount = 10
    /// p: the probability that a busy server frees itself in one step.
    public static let freeProbability = 0.06
    /// The seed of the environment's own draws after `reset(state:)`.
    public static let replaySeed: UInt64 = 0
    /// 11 × 4 states.
    public static let stateCount = (serverCount + 1) * priorities.count

    public let id = AccessControlQueuing.identifier
    public let observationSize = AccessControlQueuing.stateCount
    /// 0 = reject, 1 = accept.
    public let actionSpace = ActionSpace.discrete(2)
    public let timeLimit = Int.max
    public let rewardThreshold: Double? = nil
    public private(set) var elapsedSteps = 0
    public var state: [Double] { [Double(freeServers), Double(Self.priorities[priorityIndex])] }

    public private(set) var freeServers = AccessControlQueuing.serverCount
    public private(set) var priorityIndex = 0
    var generator = SeededGenerator(seed: AccessControlQueuing.replaySeed)

    public init() {}

    /// The state's index in the one-hot observation: free · 4 + priority index.
    public static func stateIndex(freeServers: Int, priorityIndex: Int) -> Int {
        freeServers * priorities.count + priorityIndex
    }

    /// Starts with every server free and a uniformly drawn priority.
    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        self.generator = generator.split()
        freeServers = Self.serverCount
        priorityIndex = Self.drawPriorityIndex(&self.generator)
        elapsedSteps = 0
        return observation()
    }

    /// `state`: [free servers (0…10), priority (1, 2, 4 or 8)].
    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 2)
        guard let free = Int(exactly: state[0]), (0...Self.serverCount).contains(free),
            let priority = Int(exactly: state[1]), let index = Self.priorities.firstIndex(of: priority)
        else {
            throw EnvironmentError.invalidState(
                environment: id, state: "\(state)",
                expected: "free servers 0…\(Self.serverCount) and a priority of 1, 2, 4 or 8")
        }
        freeServers = free
        priorityIndex = index
        generator = SeededGenerator(seed: Self.replaySeed)
        elapsedSteps = 0
        return observation()
    }

    /// The state, the steps taken and the generator the servers and customers draw from.
    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(state: state, elapsedSteps: elapsedSteps, generator: generator)
    }

    /// Continues from a snapshot, its generator included.
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
        if let saved = snapshot.generator { generator = saved }
    }

    public func observation() -> [Float] {
        var oneHot = [Float](repeating: 0, count: Self.stateCount)
        oneHot[Self.stateIndex(freeServers: freeServers, priorityIndex: priorityIndex)] = 1
        return oneHot
    }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .discrete(let accept) = try validated(action) else {
            throw EnvironmentError.actionOutOfSpace(environment: id, action: "\(action)", space: "Discrete(2)")
        }
        var reward = 0.0
        if accept == 1 && freeServers > 0 {
            reward = Double(Self.priorities[priorityIndex])
            freeServers -= 1
        }
        let busy = Self.serverCount - freeServers
        for _ in 0..<busy where generator.nextUniform() < Self.freeProbability { freeServers += 1 }
        priorityIndex = Self.drawPriorityIndex(&generator)
        elapsedSteps += 1
        return StepResult(observation: observation(), reward: reward, terminated: false, truncated: false)
    }

    static func drawPriorityIndex(_ generator: inout SeededGenerator) -> Int {
        min(Int(generator.nextUniform() * Double(priorities.count)), priorities.count - 1)
    }
}

extension AccessControlQueuing {
    /// The task's exact dynamics, for exact solutions (relative value iteration in Verification): from
    /// state s = (free, priority) under `action`, the reward and the distribution of the next state.
    /// The number of servers freed is Binomial(busy, p); the next priority is uniform.
    public static func transition(
        freeServers: Int, priorityIndex: Int, accept: Bool
    ) -> (reward: Double, next: [(state: Int, probability: Double)]) {
        var free = freeServers
        var reward = 0.0
        if accept && free > 0 {
            reward = Double(priorities[priorityIndex])
            free -= 1
        }
        let busy = serverCount - free
        var next: [(state: Int, probability: Double)] = []
        for freed in 0...busy {
            let probability = binomialProbability(trials: busy, successes: freed, probability: freeProbability)
            for nextPriority in priorities.indices {
                next.append(
                    (stateIndex(freeServers: free + freed, priorityIndex: nextPriority),
                     probability / Double(priorities.count)))
            }
        }
        return (reward, next)
    }

    /// C(n, k) pᵏ (1 − p)ⁿ⁻ᵏ.
    static func binomialProbability(trials: Int, successes: Int, probability: Double) -> Double {
        var coefficient = 1.0
        for i in 0..<successes { coefficient = coefficient * Double(trials - i) / Double(i + 1) }
        var value = coefficient
        for _ in 0..<successes { value *= probability }
        for _ in 0..<(trials - successes) { value *= 1 - probability }
        return value
    }
}
