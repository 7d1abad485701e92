import ArgumentParser
import Environments
import Foundation

extension PolicyLab {
    /// `policylab env …`: the classic-control environments.
    struct Env: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the environments and replay actions from a given state.",
            subcommands: [List.self, Replay.self]
        )
    }
}

extension PolicyLab.Env {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the environments: Gymnasium-exact classic control, and the continuing tasks.")
        @OptionGroup var options: GlobalOptions

        struct Row: Encodable {
            let id: String
            let observationSize: Int
            let actionSpace: String
            /// nil for a continuing task.
            let timeLimit: Int?
            let rewardThreshold: Double?
            let continuing: Bool
        }

        func run() throws {
            let rows = try EnvironmentRegistry.allIDs.map { id -> Row in
                let environment = try EnvironmentRegistry.make(id)
                return Row(
                    id: id, observationSize: environment.observationSize,
                    actionSpace: environment.actionSpace.description,
                    timeLimit: environment.isContinuing ? nil : environment.timeLimit,
                    rewardThreshold: environment.rewardThreshold, continuing: environment.isContinuing)
            }
            if options.json {
                JSONOutput.print(rows)
                return
            }
            var table = TableFormatter(["id", "observation", "actions", "time limit", "solved at"])
            for row in rows {
                table.append([
                    row.id, "\(row.observationSize)", row.actionSpace,
                    row.timeLimit.map { "\($0)" } ?? "none (continuing)",
                    row.rewardThreshold.map { "\($0)" } ?? "—",
                ])
            }
            print(table.render())
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Step an environment from a given internal state through a list of actions.",
            discussion: """
                Prints one line per step until the episode ends or the actions run out. Continuous actions are \
                the scalar force/torque, clipped to the action space; discrete actions outside the space are \
                refused. Lists may start with a minus sign (--state -0.03,0,0.05,0).
                """)

        @Option(help: "Environment id (see `policylab env list`).") var env: String
        // `.unconditional`: the value after --state / --actions is the list even when it starts with "-",
        // so negative numbers need no `--state=` form.
        @Option(
            parsing: .unconditional,
            help: "The internal state, comma-separated (e.g. CartPole: x,x_dot,theta,theta_dot).")
        var state: String
        @Option(parsing: .unconditional, help: "Actions, comma-separated.") var actions: String
        @OptionGroup var options: GlobalOptions

        func parseNumbers(_ text: String, what: String) throws -> [Double] {
            try text.split(separator: ",").map { part in
                guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw ValidationError(
                        "--\(what) has '\(part)', which is not a number — give comma-separated numbers")
                }
                return value
            }
        }

        struct StepLine: Encodable {
            let obs: [Float]
            let reward: Double
            let terminated: Bool
            let truncated: Bool
        }

        func run() throws {
            var environment = try EnvironmentRegistry.make(env)
            let initial = try parseNumbers(state, what: "state")
            let actionValues = try parseNumbers(actions, what: "actions")
            _ = try environment.reset(state: initial)
            var table = TableFormatter(["step", "action", "observation", "reward", "terminated", "truncated"])
            for (index, value) in actionValues.enumerated() {
                let action: Action
                if case .discrete = environment.actionSpace {
                    guard let a = Int(exactly: value) else {
                        throw CLIError(
                            "action \(value) is not a whole number; \(env) takes actions "
                                + "\(environment.actionSpace) — give integers")
                    }
                    action = .discrete(a)
                } else {
                    action = .continuous([value])
                }
                let result = try environment.step(action)
                if options.json {
                    print(JSONOutput.string(StepLine(
                        obs: result.observation, reward: result.reward, terminated: result.terminated,
                        truncated: result.truncated)))
                } else {
                    table.append([
                        "\(index + 1)", "\(value)",
                        result.observation.map { String(format: "%.6f", $0) }.joined(separator: " "),
                        "\(result.reward)", "\(result.terminated)", "\(result.truncated)",
                    ])
                }
                if result.terminated || result.truncated { break }
            }
            if !options.json { print(table.render()) }
        }
    }
}
