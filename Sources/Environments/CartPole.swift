import Foundation
import Randomness

/// CartPole-v1 (Barto, Sutton & Anderson 1983), as Gymnasium 1.4 `classic_control/cartpole.py`:
/// explicit Euler with τ = 0.02, force ±10 N, termination at |x| > 2.4 or |θ| > 12°, reward 1 per step
/// (including the terminating step), 500-step limit, reset state uniform in [−0.05, 0.05]⁴.
/// Internal state is float64; observations are float32. Products keep Python's evaluation order
/// (`a * x**2` is a·(x·x)): the 500-step balancing case diverges at the ulp level otherwise.
public struct CartPole: Environment {
    public let id = "CartPole-v1"
    public let observationSize = 4
    public let actionSpace = ActionSpace.discrete(2)
    public let timeLimit = 500
    public let rewardThreshold: Double? = 475
    public private(set) var elapsedSteps = 0
    public var state: [Double] { [x, xDot, theta, thetaDot] }

    static let gravity = 9.8, massCart = 1.0, massPole = 0.1
    static let totalMass = massPole + massCart
    static let length = 0.5  // half the pole's length
    static let poleMassLength = massPole * length
    static let forceMagnitude = 10.0, tau = 0.02
    static let thetaThreshold = 12 * 2 * Double.pi / 360, xThreshold = 2.4

    var x = 0.0, xDot = 0.0, theta = 0.0, thetaDot = 0.0
    var stepsBeyondTerminated: Int?

    public init() {}

    public mutating func reset(generator: inout SeededGenerator) -> [Float] {
        x = generator.nextUniform(in: -0.05, 0.05)
        xDot = generator.nextUniform(in: -0.05, 0.05)
        theta = generator.nextUniform(in: -0.05, 0.05)
        thetaDot = generator.nextUniform(in: -0.05, 0.05)
        elapsedSteps = 0
        stepsBeyondTerminated = nil
        return observation()
    }

    public mutating func reset(state: [Double]) throws -> [Float] {
        try checkStateLength(state, 4)
        (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        elapsedSteps = 0
        stepsBeyondTerminated = nil
        return observation()
    }

    /// Continues mid-episode: the internal state, then the steps taken (which `reset(state:)` zeroes).
    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws {
        _ = try reset(state: snapshot.state)
        elapsedSteps = snapshot.elapsedSteps
    }

    public func observation() -> [Float] { [Float(x), Float(xDot), Float(theta), Float(thetaDot)] }

    public mutating func step(_ action: Action) throws -> StepResult {
        guard case .discrete(let a) = try validated(action) else { preconditionFailure("validated discrete action") }
        stepDiscrete(a)
        return StepResult(
            observation: observation(), reward: lastReward, terminated: lastTerminated,
            truncated: elapsedSteps >= timeLimit)
    }

    /// Reward and termination of the last `stepDiscrete`.
    public private(set) var lastReward = 0.0
    public private(set) var lastTerminated = false

    /// The dynamics without validation or allocation: the vector environment's hot path.
    @inline(__always)
    public mutating func stepDiscrete(_ a: Int) {
        let force = a == 1 ? Self.forceMagnitude : -Self.forceMagnitude
        let cosTheta = Foundation.cos(theta), sinTheta = Foundation.sin(theta)
        let temp = (force + Self.poleMassLength * (thetaDot * thetaDot) * sinTheta) / Self.totalMass
        let thetaAcceleration =
            (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.length * (4.0 / 3.0 - Self.massPole * (cosTheta * cosTheta) / Self.totalMass))
        let xAcceleration = temp - Self.poleMassLength * thetaAcceleration * cosTheta / Self.totalMass
        x = x + Self.tau * xDot
        xDot = xDot + Self.tau * xAcceleration
        theta = theta + Self.tau * thetaDot
        thetaDot = thetaDot + Self.tau * thetaAcceleration
        elapsedSteps += 1
        let terminated =
            x < -Self.xThreshold || x > Self.xThreshold || theta < -Self.thetaThreshold || theta > Self.thetaThreshold
        if !terminated {
            lastReward = 1
        } else if stepsBeyondTerminated == nil {
            stepsBeyondTerminated = 0
            lastReward = 1
        } else {
            // Stepping past termination: Gymnasium warns and gives 0 reward.
            stepsBeyondTerminated! += 1
            lastReward = 0
        }
        lastTerminated = terminated
    }
}
