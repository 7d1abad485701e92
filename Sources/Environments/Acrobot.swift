import Foundation
import Randomness

/// Acrobot-v1 (Sutton 1996; Sutton & Barto 2018 §16.? "book" dynamics), as Gymnasium 1.4
/// `classic_control/acrobot.py`: torque ∈ {−1, 0, +1} on the joint, one RK4 step of dt = 0.2 over the
/// equations of motion, angles wrapped to [−π, π], velocities clipped to ±4π / ±9π; terminates when
/// −cos θ₁ − cos(θ₁ + θ₂) > 1; reward −1 per step (0 on termination); 500-step limit;
/// reset state ~ U[−0.1, 0.1]⁴; observation [cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂].
public struct Acrobot: Environment {
    public let id = "Acrobot-v1"
    public let observationSize = 6
    public let actionSpace = ActionSpace.discrete(3)
    public let timeLimit = 500
    public let rewardThreshold: Double? = -100
    public private(set) var elapsedSteps = 0
    public var state: [Double] { s }

    static let dt = 0.2
    static let linkLength1 = 1.0, linkMass1 = 1.0, linkMass2 = 1.0
    static let linkCenterOfMass1 = 0.5, linkCenterOfMass2 = 0.5, linkMomentOfInertia = 1.0
    static let maxVelocity1 = 4 * Double.pi, maxVelocity2 = 9 * Double.pi
    static let availableTorque: [Double] = [-1, 0, 1]
    static let gravity = 9.8

    var s = [0.0, 0.0, 0.0, 0.0]

    public init() {}

    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        // Gymnasium draws the reset state as float32.
        s = (0..<4).map { _ in Double(Float(generator.nextUniform(in: -0.1, 0.1))) }
        elapsedSteps = 0
        return observation()
    }

    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 4)
        s = state
        elapsedSteps = 0
        return observation()
    }

    /// Continues mid-episode: the internal state, then the steps taken (which `reset(state:)` zeroes).
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
    }

    public func observation() -> [Float] {
        [
            Float(Foundation.cos(s[0])), Float(Foundation.sin(s[0])), Float(Foundation.cos(s[1])),
            Float(Foundation.sin(s[1])), Float(s[2]), Float(s[3]),
        ]
    }

    /// Equations of motion (the "book" variant): derivatives of (θ₁, θ₂, θ̇₁, θ̇₂) under torque a.
    static func derivatives(_ y: [Double], torque a: Double) -> [Double] {
        let m1 = linkMass1, m2 = linkMass2, l1 = linkLength1, lc1 = linkCenterOfMass1, lc2 = linkCenterOfMass2
        let i1 = linkMomentOfInertia, i2 = linkMomentOfInertia, g = gravity
        let (theta1, theta2, dtheta1, dtheta2) = (y[0], y[1], y[2], y[3])
        let d1 = m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * Foundation.cos(theta2)) + i1 + i2
        let d2 = m2 * ((lc2 * lc2) + l1 * lc2 * Foundation.cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * Foundation.cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 =
            -m2 * l1 * lc2 * (dtheta2 * dtheta2) * Foundation.sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Foundation.sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * Foundation.cos(theta1 - Double.pi / 2) + phi2
        let ddtheta2 =
            (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * Foundation.sin(theta2) - phi2)
            / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2]
    }

    /// One classical Runge–Kutta step of length dt (Gymnasium's `rk4` over t = [0, dt]).
    static func rungeKutta4(_ y0: [Double], torque: Double, dt: Double) -> [Double] {
        func add(_ a: [Double], _ b: [Double], _ scale: Double) -> [Double] { (0..<4).map { a[$0] + scale * b[$0] } }
        let half = dt / 2
        let k1 = derivatives(y0, torque: torque)
        let k2 = derivatives(add(y0, k1, half), torque: torque)
        let k3 = derivatives(add(y0, k2, half), torque: torque)
        let k4 = derivatives(add(y0, k3, dt), torque: torque)
        return (0..<4).map { y0[$0] + dt / 6.0 * (k1[$0] + 2 * k2[$0] + 2 * k3[$0] + k4[$0]) }
    }

    /// Gymnasium's `wrap`: shifts x by multiples of (high − low) into [low, high].
    static func wrap(_ x: Double, _ low: Double, _ high: Double) -> Double {
        var x = x
        let span = high - low
        while x > high { x -= span }
        while x < low { x += span }
        return x
    }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .discrete(let a) = try validated(action) else { preconditionFailure("validated discrete action") }
        var next = Self.rungeKutta4(s, torque: Self.availableTorque[a], dt: Self.dt)
        next[0] = Self.wrap(next[0], -Double.pi, Double.pi)
        next[1] = Self.wrap(next[1], -Double.pi, Double.pi)
        next[2] = min(max(next[2], -Self.maxVelocity1), Self.maxVelocity1)
        next[3] = min(max(next[3], -Self.maxVelocity2), Self.maxVelocity2)
        s = next
        elapsedSteps += 1
        let terminated = -Foundation.cos(s[0]) - Foundation.cos(s[1] + s[0]) > 1.0
        return StepResult(
            observation: observation(), reward: terminated ? 0 : -1, terminated: terminated,
            truncated: elapsedSteps >= timeLimit)
    }
}
