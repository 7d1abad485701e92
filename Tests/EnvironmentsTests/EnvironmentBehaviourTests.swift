import Foundation
import Testing
@testable import Environments
import Randomness

@Suite struct EnvironmentBehaviourTests {
    @Test func mountainCarStepMatchesTheEquationsByHand() throws {
        var car = MountainCar()
        _ = try car.reset(state: [-0.5, 0])
        let result = try car.step(.discrete(2))
        // v = 0 + (2 − 1)·0.001 + cos(−1.5)·(−0.0025); x = −0.5 + v.
        let v = 0.001 + cos(-1.5) * -0.0025
        #expect(car.state == [-0.5 + v, v])
        #expect(result.reward == -1 && !result.terminated)
        // At the left wall a leftward velocity is zeroed.
        _ = try car.reset(state: [-1.19, -0.05])
        _ = try car.step(.discrete(0))
        #expect(car.state == [-1.2, 0])
        // Reaching the goal terminates.
        _ = try car.reset(state: [0.49, 0.02])
        #expect(try car.step(.discrete(1)).terminated)
    }

    @Test func acrobotTerminatesWhenTheTipIsHighAndWrapsAngles() throws {
        var acrobot = Acrobot()
        _ = try acrobot.reset(state: [0, 0, 0, 0])
        let rest = try acrobot.step(.discrete(1))
        // Hanging at rest with no torque stays at rest (up to cos(−π/2) ≈ 6e-17 in the gravity terms).
        #expect(acrobot.state.allSatisfy { abs($0) < 1e-12 })
        #expect(rest.reward == -1 && !rest.terminated)
        #expect(zip(rest.observation, [1, 0, 1, 0, 0, 0] as [Float]).allSatisfy { abs($0 - $1) < 1e-12 })
        // Upright first link: tip height −cos(π) − cos(π) = 2 > 1.
        _ = try acrobot.reset(state: [Double.pi, 0, 0, 0])
        let up = try acrobot.step(.discrete(1))
        #expect(up.terminated && up.reward == 0)
        #expect(acrobot.state[0] >= -Double.pi && acrobot.state[0] <= Double.pi)
        // Torque moves the second joint; velocities are clipped.
        _ = try acrobot.reset(state: [0, 0, 0, 100])
        _ = try acrobot.step(.discrete(2))
        #expect(abs(acrobot.state[3]) <= 9 * Double.pi)
    }

    @Test func discreteActionsOutOfSpaceAreRefusedAndContinuousOnesClipped() throws {
        var cartPole = CartPole()
        var generator = SeededGenerator(seed: 1)
        _ = cartPole.reset(generator: &generator)
        #expect(throws: EnvironmentError.self) { try cartPole.step(.discrete(2)) }
        #expect(throws: EnvironmentError.self) { try cartPole.step(.discrete(-1)) }
        var a = Pendulum(), b = Pendulum()
        _ = try a.reset(state: [0.3, 0.1])
        _ = try b.reset(state: [0.3, 0.1])
        let clipped = try a.step(.continuous([9]))
        let atLimit = try b.step(.continuous([2]))
        #expect(clipped.observation == atLimit.observation)
        #expect(throws: EnvironmentError.self) { try a.step(.continuous([.nan])) }
        #expect(throws: EnvironmentError.self) { try a.reset(state: [1, 2, 3]) }
    }

    @Test func timeLimitTruncatesAtExactlyTheRegisteredStep() throws {
        var pendulum = Pendulum()
        _ = try pendulum.reset(state: [0, 0])
        for step in 1...200 {
            let result = try pendulum.step(.continuous([0]))
            #expect(result.truncated == (step == 200))
        }
    }

    @Test func resetsStayInTheirDocumentedRanges() {
        var generator = SeededGenerator(seed: 2)
        for _ in 0..<200 {
            var cartPole = CartPole()
            #expect(cartPole.reset(generator: &generator).allSatisfy { abs($0) <= 0.05 })
            var car = MountainCar()
            let o = car.reset(generator: &generator)
            #expect(o[0] >= -0.6 && o[0] <= -0.4 && o[1] == 0)
            var acrobot = Acrobot()
            _ = acrobot.reset(generator: &generator)
            #expect(acrobot.state.allSatisfy { abs($0) <= 0.1 })
        }
    }

    @Test func vectorEnvironmentAutoResetsAndCountsEpisodes() throws {
        var generator = SeededGenerator(seed: 3)
        let vector = try VectorEnvironment(id: "CartPole-v1", count: 4, generator: &generator)
        var episodes: [EpisodeRecord] = []
        var ends = 0
        for _ in 0..<300 {
            // Always push right: episodes end within a few dozen steps.
            let result = try vector.step(Array(repeating: .discrete(1), count: 4))
            for i in 0..<4 where result.terminated[i] || result.truncated[i] {
                ends += 1
                #expect(result.finalObservations[i] != nil)
                // The returned observation is the next episode's reset state.
                #expect((0..<4).allSatisfy { abs(result.observations[i * 4 + $0]) <= 0.05 })
            }
            episodes += vector.drainCompletedEpisodes()
        }
        #expect(episodes.count == ends && ends > 10)
        #expect(episodes.allSatisfy { $0.totalReward == Double($0.length) && $0.length < 100 })
    }

    @Test func sameSeedSameTrajectories() throws {
        func rollout(seed: UInt64) throws -> [Float] {
            var generator = SeededGenerator(seed: seed)
            let vector = try VectorEnvironment(id: "Acrobot-v1", count: 2, generator: &generator)
            var observations: [Float] = []
            for t in 0..<50 { observations += try vector.step([.discrete(t % 3), .discrete((t + 1) % 3)]).observations }
            return observations
        }
        #expect(try rollout(seed: 7) == rollout(seed: 7))
        #expect(try rollout(seed: 7) != rollout(seed: 8))
    }
}
