import Foundation
import Testing
@testable import Environments
import Randomness
import TestSupport

/// Replays every case of Gymnasium 1.4's reference traces (Fixtures/README.md): every observation
/// within 1e-5 relative (absolute floor 1e-6 for values near 0), every reward within 1e-9 relative,
/// both flags exactly, and the episode ending where the trace ends.
@Suite struct GymnasiumParityTests {
    /// Documented reset ranges, to check the initial state of seeded cases.
    static let resetRanges: [String: [ClosedRange<Double>]] = [
        "CartPole-v1": Array(repeating: -0.05...0.05, count: 4),
        "MountainCarContinuous-v0": [-0.6...(-0.4), 0...0],
        "Pendulum-v1": [-Double.pi...Double.pi, -1...1],
    ]

    /// The trace format of Fixtures/README.md. Decoded with `JSONDecoder`, which rounds decimal numbers
    /// correctly; `JSONSerialization` on Linux can be one ulp off, enough to derail a 500-step balancing trace.
    struct Trace: Decodable {
        struct Step: Decodable {
            let obs: [Double]
            let reward: Double
            let terminated: Bool
            let truncated: Bool
        }
        enum ActionValue: Decodable {
            case discrete(Int)
            case continuous([Double])
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let vector = try? container.decode([Double].self) {
                    self = .continuous(vector)
                } else {
                    self = .discrete(try container.decode(Int.self))
                }
            }
            var action: Action {
                switch self {
                case .discrete(let a): .discrete(a)
                case .continuous(let v): .continuous(v)
                }
            }
        }
        struct Case: Decodable {
            let name: String
            let reset_seed: Int?
            let initial_state: [Double]
            let actions: [ActionValue]
            let steps: [Step]
        }
        let env_id: String
        let cases: [Case]
    }

    @Test(arguments: ["CartPole-v1", "MountainCarContinuous-v0", "Pendulum-v1"])
    func replayEveryCase(id: String) throws {
        let data = try Data(contentsOf: FixtureDirectory.url(of: "EnvironmentsTests", file: "\(id).json"))
        let trace = try JSONDecoder().decode(Trace.self, from: data)
        #expect(trace.env_id == id)
        #expect(!trace.cases.isEmpty)
        for testCase in trace.cases {
            let name = testCase.name
            if testCase.reset_seed != nil {
                for (value, range) in zip(testCase.initial_state, Self.resetRanges[id]!) {
                    #expect(range.contains(value),
                            "\(id) \(name): initial state \(value) outside the reset range \(range)")
                }
            }
            var environment = try EnvironmentRegistry.make(id)
            _ = try environment.reset(state: testCase.initial_state)
            for (index, expected) in testCase.steps.enumerated() {
                let result = try environment.step(testCase.actions[index].action)
                for (got, want) in zip(result.observation, expected.obs) {
                    let error = abs(Double(got) - want)
                    #expect(error <= max(1e-5 * abs(want), 1e-6),
                            "\(id) \(name) step \(index): observation \(result.observation) vs \(expected.obs)")
                }
                #expect(abs(result.reward - expected.reward) <= 1e-9 * max(1, abs(expected.reward)),
                        "\(id) \(name) step \(index): reward \(result.reward) vs \(expected.reward)")
                #expect(result.terminated == expected.terminated, "\(id) \(name) step \(index): terminated")
                #expect(result.truncated == expected.truncated, "\(id) \(name) step \(index): truncated")
                if result.terminated || result.truncated {
                    let last = testCase.steps.count - 1
                    #expect(index == last, "\(id) \(name): the episode ended at step \(index), the trace at \(last)")
                }
            }
        }
    }
}
