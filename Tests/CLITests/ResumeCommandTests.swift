import Foundation
import Store
import Testing

/// `train ppo|grpo --resume RUN` on real processes: a run killed with kill -9 (or stopped by Ctrl-C) continues
/// from its last checkpoint and ends with the metric rows and weights of the run that was never stopped.
@Suite struct ResumeCommandTests {
    /// A run's metric rows without the timing ones, and its last checkpoint's weights.
    func outcome(_ cli: CommandRunner, _ run: String) throws -> (rows: [String], weights: [UInt8]) {
        let export = try cli.run("runs", "export", run, "--format", "csv")
        #expect(export.status == 0, "\(export.stderr)")
        let lines: [[Substring]] = export.stdout.split(separator: "\n").dropFirst().map {
            Array($0.split(separator: ",").dropFirst())
        }
        let rows = lines.filter { !$0.contains("charts/SPS") }.map { $0.joined(separator: ",") }
        let store = try Store(path: cli.path("policylab.sqlite"))
        let checkpoint = try #require(try store.checkpoint(runID: try store.run(run).id))
        return (rows, checkpoint.weights)
    }

    /// Starts `arguments` and kills it with SIGKILL once the run has a checkpoint; false if it finished first.
    func killAfterFirstCheckpoint(_ cli: CommandRunner, _ arguments: [String], run: String) throws -> Bool {
        let process = cli.process(arguments)
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The run is stopped (SIGSTOP) while the database is looked at, so that a slow look on a loaded
        // machine cannot let it run to its end between finding the checkpoint and the kill; it runs in
        // slices of 10 ms between looks.
        let deadline = ContinuousClock.now + .seconds(300)
        while process.isRunning, ContinuousClock.now < deadline {
            kill(process.processIdentifier, SIGSTOP)
            if let store = try? Store(path: cli.path("policylab.sqlite")), let info = try? store.run(run),
                let steps = try? store.checkpointSteps(runID: info.id), !steps.isEmpty
            {
                break
            }
            kill(process.processIdentifier, SIGCONT)
            Thread.sleep(forTimeInterval: 0.01)
        }
        guard process.isRunning else { return false }
        kill(process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
        return true
    }

    @Test func aPPORunKilledWithKill9ResumesToTheUninterruptedRun() throws {
        let cli = CommandRunner()
        let settings = [
            "--env", "CartPole-v1", "--total-steps", "51200", "--update-epochs", "1", "--eval-episodes", "2",
            "--seed", "4",
        ]
        let whole = try cli.run(["train", "ppo"] + settings + ["--name", "whole", "--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let arguments = ["train", "ppo"] + settings + ["--name", "killed"]
        let killed = try killAfterFirstCheckpoint(cli, arguments, run: "killed")
        try #require(killed, "the run finished before it could be killed")
        #expect(try cli.run("runs", "show", "killed", "--json").stdout.contains("\"interrupted\""))

        #expect(try cli.run("train", "ppo", "--resume", "killed", "--seed", "5").status == 64)
        let resumed = try cli.run("train", "ppo", "--resume", "killed", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let expected = try outcome(cli, "whole"), got = try outcome(cli, "killed")
        #expect(!expected.rows.isEmpty && got.rows == expected.rows)
        #expect(got.weights == expected.weights)
        // A finished run has nothing to resume, and the refusal writes nothing.
        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let again = try cli.run("train", "ppo", "--resume", "killed")
        #expect(again.status == 1 && again.stderr.contains("finished"), "\(again.stderr)")
        #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before)
    }

    @Test func aGRPORunStoppedEarlyResumesToTheUninterruptedRun() throws {
        let cli = CommandRunner()
        let settings = [
            "--task", "sort", "--steps", "20", "--prompts", "2", "--samples", "4", "--eval-prompts", "4",
            "--eval-interval", "2", "--beta", "0.04", "--seed", "2",
        ]
        let whole = try cli.run(["train", "grpo"] + settings + ["--name", "whole", "--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        // Killed with kill -9 after its first checkpoint (step 2 or a later one).
        let killed = try killAfterFirstCheckpoint(cli, ["train", "grpo"] + settings + ["--name", "cut"], run: "cut")
        try #require(killed, "the run finished before it could be killed")
        let resumed = try cli.run("train", "grpo", "--resume", "cut", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let expected = try outcome(cli, "whole"), got = try outcome(cli, "cut")
        #expect(!expected.rows.isEmpty && got.rows == expected.rows)
        #expect(got.weights == expected.weights)
        let otherAlgorithm = try cli.run("train", "a2c", "--resume", "cut")
        #expect(otherAlgorithm.status == 1 && otherAlgorithm.stderr.contains("is a grpo run"), "\(otherAlgorithm)")
    }
}
