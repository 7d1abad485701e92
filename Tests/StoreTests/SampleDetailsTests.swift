import Foundation
import Testing
@testable import Store
import TestSupport

/// The details `policylab inspect` shows of a logged completion survive the database (migration v3).
@Suite struct SampleDetailsTests {
    @Test func sampleDetailsRoundTripAndStepsAreListed() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        #expect(try store.appliedMigrations().contains("v3-sample-details"))
        let run = try store.createRun(RunSpec(algorithm: "token-ppo", target: "sort", configJSON: "{}", seed: 1))
        let kl = [0.1, -0.000123456789012345, 1e-300, 3]
        let details = [
            SampleRecord(step: 10, prompt: "21=", completion: "12", reward: 1, logprob: -0.5, source: "rollout",
                         group: 0, advantage: -0.75, length: 3, truncated: false, value: 0.25, tokenKL: kl),
            SampleRecord(step: 10, prompt: "21=", completion: "1111", reward: 0, source: "rollout", group: 0,
                         advantage: 0.5, length: 4, truncated: true, tokenKL: []),
            SampleRecord(step: 10, prompt: "31=", completion: "13", reward: 1, source: "evaluation", length: 3,
                         truncated: false),
            SampleRecord(step: 1, prompt: "1=", completion: "1", reward: 1, logprob: -0.1),
        ]
        try store.appendSamples(runID: run.id, details)
        #expect(try store.samples(runID: run.id, step: 10) == Array(details.prefix(3)))
        #expect(try store.samples(runID: run.id, step: 1) == [details[3]])
        #expect(try store.sampleSteps(runID: run.id) == [1, 10])
    }
}
