import Foundation
import Randomness

/// Pendulum-v1, as Gymnasium 1.4 `classic_control/pendulum.py`: torque clipped to [−2, 2],
/// θ̈ = 3g/(2l)·sin θ + 3/(ml²)·u, semi-implicit Euler with dt = 0.05, θ̇ clipped to [−8, 8],
/// reward −(angle_normalize(θ)² + 0.1 θ̇² + 0.001 u²) from the state before the step,
/// observation [cos θ, sin θ, θ̇], never terminates, 200-step limit, reset θ ~ U[−π, π], θ̇ ~ U[−1, 1].
public struct Pendulum: Environment {
    public let id = "Pendulum-v1"
    public let observationSize = 3
    public let actionSpace = ActionSpace.box(low: [-2], high: [2])
    public let timeLimit = 200
    public let rewardThreshold: Double? = nil
    public private(set) var elapsedSteps = 0
    public var state: [Double] { [theta, thetaDot] }

    static let maxSpeed = 8.0, maxTorque = 2.0, dt = 0.05, gravity = 10.0, mass = 1.0, length = 1.0

    var theta = 0.0, thetaDot = 0.0

    public init() {}

    /// ((x + π) mod 2π) − π with a non-negative modulo (Python's `%`).
    static func angleNormalize(_ x: Double) -> Double {
        let period = 2 * Double.pi
        var r = (x + Double.pi).truncatingRemainder(dividingBy: period)
        if r < 0 { r += period }
        return r - Double.pi
    }

    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        theta = generator.nextUniform(in: -Double.pi, Double.pi)
        thetaDot = generator.nextUniform(in: -1, 1)
        elapsedSteps = 0
        return observation()
    }

    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 2)
        (theta, thetaDot) = (state[0], state[1])
        elapsedSteps = 0
        return observation()
    }

    /// Continues mid-episode: the internal state, then the steps taken (which `reset(state:)` zeroes).
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
    }

    public func observation() -> [Float] {
        [Float(Foundation.cos(theta)), Float(Foundation.sin(theta)), Float(thetaDot)]
    }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .continuous(let values) = try validated(action) else {
            preconditionFailure("validated continuous action")
        }
        // Actions arrive as float32 (NumPy 2 keeps the torque terms in float32; the state is float64).
        let u = min(max(Float(values[0]), Float(-Self.maxTorque)), Float(Self.maxTorque))
        let torqueCost = Double(Float(0.001) * (u * u))
        let cost = Self.angleNormalize(theta) * Self.angleNormalize(theta) + 0.1 * (thetaDot * thetaDot) + torqueCost
        let torqueTerm = Double(Float(3.0 / (Self.mass * Self.length * Self.length)) * u)
        var newThetaDot =
            thetaDot + (3 * Self.gravity / (2 * Self.length) * Foundation.sin(theta) + torqueTerm) * Self.dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        theta = theta + newThetaDot * Self.dt
        thetaDot = newThetaDot
        elapsedSteps += 1
        return StepResult(
            observation: observation(), reward: -cost, terminated: false, truncated: elapsedSteps >= timeLimit)
    }
}
