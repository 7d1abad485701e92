import Foundation
import Testing

@Suite struct EnvCommandTests {
    @Test func replayPrintsOneJSONLinePerStepAndStopsAtTheEnd() throws {
        let cli = CommandRunner()
        let actions = Array(repeating: "1", count: 20).joined(separator: ",")
        let result = try cli.run(
            "env", "replay", "--env", "CartPole-v1", "--state", "0,0,0.2,0", "--actions", actions, "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count < 20)  // the pole falls (θ > 12°) before the actions run out
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        #expect(last["terminated"] as? Bool == true)
        #expect((last["obs"] as? [Double])?.count == 4)
    }

    @Test func discreteActionsOutOfSpaceAreRefusedWithOneLine() throws {
        let cli = CommandRunner()
        let result = try cli.run("env", "replay", "--env", "Acrobot-v1", "--state", "0,0,0,0", "--actions", "0,3")
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("outside Acrobot-v1's action space"))
        #expect(try cli.run("env", "replay", "--env", "Nope", "--state", "0", "--actions", "1").status == 1)
        #expect(try cli.run("env", "replay", "--env", "CartPole-v1", "--state", "0,0", "--actions", "1").status == 1)
        let list = try cli.run("env", "list", "--json")
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        #expect(rows.count == 6)
        // The continuing queue: no time limit, marked continuing; replay takes [free servers, priority].
        let queue = rows.first { $0["id"] as? String == "AccessControlQueuing-v0" }
        #expect(queue?["continuing"] as? Bool == true && queue?["time_limit"] == nil)
        #expect(rows.filter { $0["continuing"] as? Bool == false }.count == 5)
        let replay = try cli.run(
            "env", "replay", "--env", "AccessControlQueuing-v0", "--state", "3,8", "--actions", "1,0", "--json")
        let steps = replay.stdout.split(separator: "\n")
        #expect(replay.status == 0 && steps.count == 2 && steps[0].contains("\"reward\":8"))
        let badState = try cli.run(
            "env", "replay", "--env", "AccessControlQueuing-v0", "--state", "3,3", "--actions", "1")
        #expect(badState.status == 1 && badState.stderr.contains("priority of 1, 2, 4 or 8"))
    }

    /// `--state -0.03,…` and `--actions -1.5` are lists, not unknown options; the `=` form still works.
    @Test func negativeNumbersInListsNeedNoEqualsSign() throws {
        let cli = CommandRunner()
        let natural = try cli.run(
            "env", "replay", "--env", "CartPole-v1", "--state", "-0.03,0,0.05,0", "--actions", "0", "--json")
        #expect(natural.status == 0, "\(natural.stderr)")
        let withEquals = try cli.run(
            "env", "replay", "--env", "CartPole-v1", "--state=-0.03,0,0.05,0", "--actions", "0", "--json")
        #expect(natural.stdout == withEquals.stdout)
        let step = try JSONSerialization.jsonObject(with: Data(natural.stdout.utf8)) as? [String: Any]
        let observation = try #require(step?["obs"] as? [Double])
        #expect(observation.count == 4 && observation[0] < 0)  // x starts at -0.03 and moves by 0.02 * x_dot = 0
        let pendulum = try cli.run(
            "env", "replay", "--env", "Pendulum-v1", "--state", "-1,0.5", "--actions", "-1.5,-2", "--json")
        #expect(pendulum.status == 0, "\(pendulum.stderr)")
        #expect(pendulum.stdout.split(separator: "\n").count == 2)
    }
}
