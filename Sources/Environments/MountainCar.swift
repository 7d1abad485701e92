import Foundation
import Randomness

/// MountainCar-v0 (Moore 1990), as Gymnasium 1.4 `classic_control/mountain_car.py`:
/// v ← clip(v + (a − 1)·0.001 − 0.0025·cos(3x), ±0.07), x ← clip(x + v, [−1.2, 0.6]), v = 0 at the
/// left wall when moving left; terminates at x ≥ 0.5 (v ≥ 0); reward −1 per step; 200-step limit;
/// reset x ~ U[−0.6, −0.4], v = 0. State float64, observation float32.
public struct MountainCar: Environment {
    public let id = "MountainCar-v0"
    public let observationSize = 2
    public let actionSpace = ActionSpace.discrete(3)
    public let timeLimit = 200
    public let rewardThreshold: Double? = -110
    public private(set) var elapsedSteps = 0
    public var state: [Double] { [position, velocity] }

    static let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07, goalPosition = 0.5, goalVelocity = 0.0
    static let force = 0.001, gravity = 0.0025

    var position = 0.0, velocity = 0.0

    public init() {}

    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        position = generator.nextUniform(in: -0.6, -0.4)
        velocity = 0
        elapsedSteps = 0
        return observation()
    }

    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 2)
        (position, velocity) = (state[0], state[1])
        elapsedSteps = 0
        return observation()
    }

    /// Continues mid-episode: the internal state, then the steps taken (which `reset(state:)` zeroes).
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
    }

    public func observation() -> [Float] { [Float(position), Float(velocity)] }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .discrete(let a) = try validated(action) else { preconditionFailure("validated discrete action") }
        velocity += Double(a - 1) * Self.force + Foundation.cos(3 * position) * (-Self.gravity)
        velocity = min(max(velocity, -Self.maxSpeed), Self.maxSpeed)
        position += velocity
        position = min(max(position, Self.minPosition), Self.maxPosition)
        if position == Self.minPosition && velocity < 0 { velocity = 0 }
        elapsedSteps += 1
        let terminated = position >= Self.goalPosition && velocity >= Self.goalVelocity
        return StepResult(
            observation: observation(), reward: -1, terminated: terminated, truncated: elapsedSteps >= timeLimit)
    }
}

/// MountainCarContinuous-v0, as Gymnasium 1.4 `classic_control/continuous_mountain_car.py`:
/// force = clip(a, ±1), v ← clip(v + force·0.0015 − 0.0025·cos(3x), ±0.07), x ← clip(x + v, [−1.2, 0.6]);
/// terminates at x ≥ 0.45 (v ≥ 0) with +100; reward −0.1·a² on the *unclipped* action (as Gymnasium);
/// 999-step limit; reset x ~ U[−0.6, −0.4], v = 0.
///
/// Gymnasium's arithmetic is reproduced with NumPy 2's promotion rules: actions arrive as float32
/// arrays, the state is stored as float32 after every step (float64 before the first), and a Python
/// float meeting a NumPy float32 is computed in float32.
public struct MountainCarContinuous: Environment {
    public let id = "MountainCarContinuous-v0"
    public let observationSize = 2
    public let actionSpace = ActionSpace.box(low: [-1], high: [1])
    public let timeLimit = 999
    public let rewardThreshold: Double? = 90
    public private(set) var elapsedSteps = 0
    public var state: [Double] { [position, velocity] }

    static let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07, goalPosition = 0.45, goalVelocity = 0.0
    static let power = 0.0015

    var position = 0.0, velocity = 0.0
    /// Whether the state has been through a step (and so is float32, as Gymnasium stores it).
    var stateIsFloat32 = false

    public init() {}

    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        position = generator.nextUniform(in: -0.6, -0.4)
        velocity = 0
        stateIsFloat32 = false
        elapsedSteps = 0
        return observation()
    }

    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 2)
        (position, velocity) = (state[0], state[1])
        stateIsFloat32 = false
        elapsedSteps = 0
        return observation()
    }

    /// Continues mid-episode: the internal state, then the steps taken (which `reset(state:)` zeroes).
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
    }

    public func observation() -> [Float] { [Float(position), Float(velocity)] }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .continuous(let values) = try validated(action) else {
            preconditionFailure("validated continuous action")
        }
        let action32 = Float(values[0])
        let clipped = action32 < -1 || action32 > 1
        if stateIsFloat32 {
            // Everything in float32: the state is float32 and every other operand is float32 or a Python float.
            let p0 = Float(position), v0 = Float(velocity)
            let push: Float = clipped ? Float((action32 < -1 ? -1.0 : 1.0) * Self.power) : action32 * Float(Self.power)
            let change = push - Float(0.0025 * Foundation.cos(Double(Float(3) * p0)))
            var v = v0 + change
            v = min(max(v, Float(-Self.maxSpeed)), Float(Self.maxSpeed))
            var p = p0 + v
            p = min(max(p, Float(Self.minPosition)), Float(Self.maxPosition))
            if p == Float(Self.minPosition) && v < 0 { v = 0 }
            (position, velocity) = (Double(p), Double(v))
        } else {
            // First step: the reset state is float64, so the sums are float64.
            let push: Double =
                clipped ? (action32 < -1 ? -1.0 : 1.0) * Self.power : Double(action32 * Float(Self.power))
            let change =
                clipped
                ? push - 0.0025 * Foundation.cos(3 * position)
                : Double(Float(push) - Float(0.0025 * Foundation.cos(3 * position)))
            var v = velocity + change
            v = min(max(v, -Self.maxSpeed), Self.maxSpeed)
            var p = position + v
            p = min(max(p, Self.minPosition), Self.maxPosition)
            if p == Self.minPosition && v < 0 { v = 0 }
            (position, velocity) = (Double(Float(p)), Double(Float(v)))
        }
        stateIsFloat32 = true
        elapsedSteps += 1
        let terminated = position >= Self.goalPosition && velocity >= Self.goalVelocity
        var reward = terminated ? 100.0 : 0.0
        reward -= Double(action32) * Double(action32) * 0.1
        return StepResult(
            observation: observation(), reward: reward, terminated: terminated, truncated: elapsedSteps >= timeLimit)
    }
}
