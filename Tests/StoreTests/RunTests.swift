import Foundation
import Testing
@testable import Store
import TestSupport

@Suite struct RunTests {
    @Test func runLifecycleMetricsSamplesCheckpoints() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        let run = try store.createRun(
            RunSpec(algorithm: "ppo", target: "CartPole-v1", configJSON: #"{"lr":0.001}"#, seed: 3))
        #expect(run.name.hasPrefix("CartPole-v1__ppo__3__"))
        #expect(run.status == .running)
        let twin = try store.createRun(RunSpec(algorithm: "ppo", target: "CartPole-v1", configJSON: "{}", seed: 3))
        #expect(twin.name != run.name)

        try store.appendMetrics(runID: run.id, [
            MetricPoint(step: 1, samplesSeen: 512, name: "charts/episodic_return", value: 20),
            MetricPoint(step: 2, samplesSeen: 1024, name: "charts/episodic_return", value: 40),
            MetricPoint(step: 2, samplesSeen: 1024, name: "losses/approx_kl", value: 0.01),
        ])
        #expect(try store.metrics(runID: run.id, name: "charts/episodic_return").map(\.value) == [20, 40])
        #expect(try store.latestMetrics(runID: run.id).map(\.name) == ["charts/episodic_return", "losses/approx_kl"])
        #expect(try store.latestMetrics(runID: run.id).first?.value == 40)

        try store.appendSamples(runID: run.id, [
            SampleRecord(step: 1, prompt: "1=", completion: "2", reward: 0, logprob: -1.5),
            SampleRecord(step: 2, prompt: "1=", completion: "1", reward: 1, logprob: -0.1),
        ])
        #expect(try store.samples(runID: run.id, step: 2).map(\.completion) == ["1"])
        #expect(try store.samples(runID: run.id, limit: 1).map(\.step) == [2])

        try store.saveCheckpoint(runID: run.id, step: 10, configJSON: "{}", weights: [1, 2, 3], optimizer: [4])
        try store.saveCheckpoint(runID: run.id, step: 20, configJSON: "{}", weights: [5, 6])
        #expect(try store.checkpoint(runID: run.id)?.weights == [5, 6])
        #expect(try store.checkpoint(runID: run.id, step: 10)?.optimizer == [4])
        #expect(try store.checkpointSteps(runID: run.id) == [10, 20])
        // A newer checkpoint with a resume state drops the earlier ones' states (resume reads the latest only).
        try store.saveCheckpoint(runID: run.id, step: 30, configJSON: "{}", weights: [7], optimizer: [8])
        #expect(try store.checkpoint(runID: run.id, step: 10)?.optimizer == nil)
        #expect(try store.checkpoint(runID: run.id, step: 10)?.weights == [1, 2, 3])
        #expect(try store.checkpoint(runID: run.id)?.optimizer == [8])

        try store.finishRun(id: run.id, status: .failed, error: "NaN loss at step 21")
        let finished = try store.run(run.name)
        #expect(finished.status == .failed)
        #expect(finished.error == "NaN loss at step 21")
        #expect(try store.run("\(run.id)") == finished)
        #expect(throws: StoreError.unknownRun(reference: "nope")) { try store.run("nope") }
    }

    @Test func aRunWhoseProcessIsGoneIsMarkedInterrupted() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        let mine = try store.createRun(RunSpec(algorithm: "sft", target: "sort", configJSON: "{}", seed: 1))
        let orphan = try store.createRun(RunSpec(algorithm: "sft", target: "sort", configJSON: "{}", seed: 2))
        try store.writer().write { db in
            // A process id that cannot exist (above Linux's pid_max).
            try db.execute(sql: "UPDATE runs SET pid = 99999999 WHERE id = ?", arguments: [orphan.id])
        }
        #expect(try store.markAbandonedRunsInterrupted() == 1)
        #expect(try store.run(orphan.name).status == .interrupted)
        #expect(try store.run(mine.name).status == .running)
    }
}
