import Foundation
import Store
import Testing

/// `train a2c|ac-average-reward --resume RUN` on real processes: a run killed with kill -9 after a checkpoint
/// continues from it and ends with the metric rows and weights of the run that was never stopped; the refusals
/// (options beside --resume, a run of another algorithm, a finished run) leave the database as it was.
@Suite struct ControlResumeCommandTests {
    /// The kill -9 and the comparison of `ResumeCommandTests`.
    let resume = ResumeCommandTests()

    func databaseBytes(_ cli: CommandRunner) -> Data? {
        FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
    }

    /// Runs `command` with `settings` whole, then killed after its first checkpoint and resumed; compares.
    func killedAndResumedMatchesWhole(_ command: String, _ settings: [String], otherCommand: String) throws {
        let cli = CommandRunner()
        let whole = try cli.run(["train", command] + settings + ["--name", "whole", "--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let killed = try resume.killAfterFirstCheckpoint(
            cli, ["train", command] + settings + ["--name", "killed"], run: "killed")
        try #require(killed, "the run finished before it could be killed")
        #expect(try cli.run("runs", "show", "killed", "--json").stdout.contains("\"interrupted\""))

        // Refused, writing nothing: another option with --resume, and the run given to another algorithm.
        let before = databaseBytes(cli)
        #expect(try cli.run("train", command, "--resume", "killed", "--seed", "5").status == 64)
        let other = try cli.run("train", otherCommand, "--resume", "killed")
        #expect(other.status == 1 && other.stderr.contains("is a \(command) run"), "\(other.stderr)")
        #expect(other.stderr.split(separator: "\n").count == 1)
        #expect(databaseBytes(cli) == before)

        let resumed = try cli.run("train", command, "--resume", "killed", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let expected = try resume.outcome(cli, "whole"), got = try resume.outcome(cli, "killed")
        #expect(!expected.rows.isEmpty && got.rows == expected.rows)
        #expect(got.weights == expected.weights)

        // A finished run has nothing to resume.
        let finished = databaseBytes(cli)
        let again = try cli.run("train", command, "--resume", "killed")
        #expect(again.status == 1 && again.stderr.contains("finished"), "\(again.stderr)")
        #expect(databaseBytes(cli) == finished)
    }

    @Test func anA2CRunKilledWithKill9ResumesToTheUninterruptedRun() throws {
        try killedAndResumedMatchesWhole(
            "a2c",
            [
                "--env", "CartPole-v1", "--total-steps", "20000", "--num-envs", "4", "--num-steps", "8",
                "--eval-episodes", "2", "--eval-interval", "400", "--seed", "3",
            ], otherCommand: "off-policy")
    }

    @Test func anAverageRewardRunKilledWithKill9ResumesToTheUninterruptedRun() throws {
        try killedAndResumedMatchesWhole(
            "ac-average-reward",
            [
                "--total-steps", "20000", "--log-interval", "100", "--eval-steps", "2000", "--eval-interval", "7000",
                "--seed", "2",
            ], otherCommand: "ac-lambda")
    }
}
