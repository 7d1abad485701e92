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

    /// Episodes completed since the last call (in completion order), then forgets them.
    public func drainCompletedEpisodes() -> [EpisodeRecord] {
        defer { completed.removeAll(keepingCapacity: true) }
        return completed
    }
}
