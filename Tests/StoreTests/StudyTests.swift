import Foundation
import Testing
@testable import Store
import TestSupport

@Suite struct StudyTests {
    @Test func aStudyKeepsItsRunsByConfigurationAndSeed() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("lab.sqlite")
        let store = try Store(path: path)
        #expect(try store.studies().isEmpty)
        #expect(try store.study(named: "s") == nil)
        #expect(FileManager.default.fileExists(atPath: path) == false, "reading creates no file")

        let study = try store.createStudy(
            StudySpec(name: "grpo-vs-rloo", configJSON: #"{"seeds":[1,2]}"#, budget: "completions=128"))
        #expect(try store.appliedMigrations().contains("v2-studies"))
        #expect(throws: StoreError.studyExists(name: "grpo-vs-rloo")) {
            try store.createStudy(StudySpec(name: "grpo-vs-rloo", configJSON: "{}", budget: "completions=1"))
        }
        let first = try store.createRun(RunSpec(algorithm: "grpo", target: "sort", configJSON: "{}", seed: 1))
        let second = try store.createRun(RunSpec(algorithm: "rloo", target: "sort", configJSON: "{}", seed: 2))
        try store.addStudyRun(studyID: study.id, StudyRun(runID: first.id, configuration: "grpo", seed: 1))
        try store.addStudyRun(studyID: study.id, StudyRun(runID: second.id, configuration: "rloo", seed: 2))
        #expect(throws: StoreError.self) {
            // A run belongs to one study at most, once.
            try store.addStudyRun(studyID: study.id, StudyRun(runID: first.id, configuration: "grpo", seed: 1))
        }

        let reopened = try Store(path: path)
        #expect(try reopened.study("grpo-vs-rloo") == study)
        #expect(try reopened.studies().map(\.name) == ["grpo-vs-rloo"])
        #expect(try reopened.studyRuns(studyID: study.id) == [
            StudyRun(runID: first.id, configuration: "grpo", seed: 1),
            StudyRun(runID: second.id, configuration: "rloo", seed: 2),
        ])
        #expect(throws: StoreError.unknownStudy(name: "nope")) { try reopened.study("nope") }
    }

    @Test func deletingARunTakesItOutOfItsStudy() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path("lab.sqlite"))
        let study = try store.createStudy(StudySpec(name: "s", configJSON: "{}", budget: "steps=10"))
        let run = try store.createRun(RunSpec(algorithm: "ppo", target: "CartPole-v1", configJSON: "{}", seed: 1))
        try store.addStudyRun(studyID: study.id, StudyRun(runID: run.id, configuration: "ppo", seed: 1))
        try store.writer().write { db in try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [run.id]) }
        #expect(try store.studyRuns(studyID: study.id).isEmpty)
    }
}
