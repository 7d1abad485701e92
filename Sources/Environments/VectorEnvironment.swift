import Randomness

/// A completed episode's undiscounted return and length.
public struct EpisodeRecord: Equatable, Sendable {
    public var totalReward: Double
    public var length: Int
}

/// What one step of all copies returns. Observations after an episode end are already the next
/// episode's first observation (same-step auto-reset, as SB3 and CleanRL with Gymnasium 0.29);
/// the last observation of the ended episode is in `finalObservations` for truncation bootstrapping.
public struct VectorStepResult {
    /// (N, observationSize), row-major.
    public var observations: [Float]
    public var rewards: [Double]
    public var terminated: [Bool]
    public var truncated: [Bool]
    /// For each copy whose episode ended this step, its last observation.
    public var finalObservations: [Int: [Float]]
}

/// N copies of one environment stepped together, with auto-reset and episode statistics.
public final class VectorEnvironment {
    public let id: String
    public let count: Int
    public let observationSize: Int
    public let actionSpace: ActionSpace
    var environments: [any Environment]
    var generators: [SeededGenerator]
    var runningReward: [Double]
    var runningLength: [Int]
    var completed: [EpisodeRecord] = []
    /// Current observations (N, observationSize).
    public private(set) var observations: [Float]

    /// Copies seeded from `generator`: copy i draws its resets from a child generator of its own.
    public init(id: String, count: Int, generator: inout SeededGenerator) throws {
        precondition(count > 0, "a vector environment needs at least one copy")
        let prototype = try EnvironmentRegistry.make(id)
        self.id = id
        self.count = count
        observationSize = prototype.observationSize
        actionSpace = prototype.actionSpace
        environments = []
        generators = []
        for _ in 0..<count {
            environments.append(try EnvironmentRegistry.make(id))
            generators.append(generator.split())
        }
        runningReward = [Double](repeating: 0, count: count)
        runningLength = [Int](repeating: 0, count: count)
        observations = [Float](repeating: 0, count: count * observationSize)
        _ = reset()
    }

    /// Resets every copy; returns the observations.
    public func reset() -> [Float] {
        for i in 0..<count {
            let observation = environments[i].reset(generator: &generators[i])
            store(observation, at: i)
            runningReward[i] = 0
            runningLength[i] = 0
        }
        return observations
    }

    @inline(__always)
    private func store(_ observation: [Float], at index: Int) {
        for j in 0..<observationSize { observations[index * observationSize + j] = observation[j] }
    }

    /// Steps copy i with `actions[i]`, auto-resetting ended episodes.
    public func step(_ actions: [Action]) throws -> VectorStepResult {
        precondition(actions.count == count, "\(actions.count) actions for \(count) environments")
        var result = VectorStepResult(
            observations: [], rewards: [Double](repeating: 0, count: count),
            terminated: [Bool](repeating: false, count: count),
            truncated: [Bool](repeating: false, count: count), finalObservations: [:])
        for i in 0..<count {
            let step = try environments[i].step(actions[i])
            result.rewards[i] = step.reward
            result.terminated[i] = step.terminated
            result.truncated[i] = step.truncated && !step.terminated
            runningReward[i] += step.reward
            runningLength[i] += 1
            if step.terminated || step.truncated {
                result.finalObservations[i] = step.observation
                completed.append(EpisodeRecord(totalReward: runningReward[i], length: runningLength[i]))
                runningReward[i] = 0
                runningLength[i] = 0
                store(environments[i].reset(generator: &generators[i]), at: i)
            } else {
                store(step.observation, at: i)
            }
        }
        result.observations = observations
        return result
    }

    /// Every copy mid-episode, for an exact resume (`train … --resume`): its environment, the generator its
    /// resets draw from, its episode's running return and length, and the current observations.
    public struct Snapshot: Codable, Sendable {
        public var environments: [EnvironmentSnapshot]
        public var generators: [SeededGenerator]
        public var runningReward: [Double]
        public var runningLength: [Int]
        public var observations: [Float]
    }

    /// The copies as they are now (taken between steps, after the completed episodes were drained).
    public var snapshot: Snapshot {
        Snapshot(
            environments: environments.map(\.snapshot), generators: generators, runningReward: runningReward,
            runningLength: runningLength, observations: observations)
    }

    /// Continues from a snapshot of a vector of the same environment and size.
    public func restore(_ snapshot: Snapshot) throws {
        guard snapshot.environments.count == count, snapshot.generators.count == count,
            snapshot.runningReward.count == count, snapshot.runningLength.count == count,
            snapshot.observations.count == count * observationSize
        else {
            throw EnvironmentError.invalidState(
                environment: id, state: "a snapshot of \(snapshot.environments.count) copies",
                expected: "one of \(count) copies")
        }
        for i in 0..<count { try environments[i].restore(snapshot.environments[i]) }
        generators = snapshot.generators
        runningReward = snapshot.runningReward
        runningLength = snapshot.runningLength
        observations = snapshot.observations
        completed.removeAll()
    }

    /// Episodes completed since the last call (in completion order), then forgets them.
    public func drainCompletedEpisodes() -> [EpisodeRecord] {
        defer { completed.removeAll(keepingCapacity: true) }
        return completed
    }
}
