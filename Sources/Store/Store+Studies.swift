import Foundation
import GRDB

extension Store {
    /// Creates a study; its name must be new.
    public func createStudy(_ spec: StudySpec) throws -> StudyInfo {
        try Self.validateName(spec.name)
        let createdAt = Date().timeIntervalSince1970
        return try write { db in
            let taken = try Int.fetchOne(db, sql: "SELECT 1 FROM studies WHERE name = ?", arguments: [spec.name])
            guard taken == nil else { throw StoreError.studyExists(name: spec.name) }
            try db.execute(
                sql: "INSERT INTO studies (name, config_json, budget, created_at) VALUES (?, ?, ?, ?)",
                arguments: [spec.name, spec.configJSON, spec.budget, createdAt])
            return StudyInfo(
                id: db.lastInsertedRowID, name: spec.name, configJSON: spec.configJSON, budget: spec.budget,
                createdAt: createdAt)
        }
    }

    /// The study called `name`, or nil.
    public func study(named name: String) throws -> StudyInfo? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM studies WHERE name = ?", arguments: [name]).map(Self.studyInfo)
        }
    }

    /// The study called `name`; throws `unknownStudy` when there is none.
    public func study(_ name: String) throws -> StudyInfo {
        guard let study = try study(named: name) else { throw StoreError.unknownStudy(name: name) }
        return study
    }

    /// All studies, newest first.
    public func studies() throws -> [StudyInfo] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM studies ORDER BY id DESC").map(Self.studyInfo) }
    }

    /// Records that `runID` is the run of (configuration, seed) in a study. A run belongs to one study at most.
    public func addStudyRun(studyID: Int64, _ member: StudyRun) throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO study_runs (study_id, run_id, configuration, seed) VALUES (?, ?, ?, ?)",
                arguments: [studyID, member.runID, member.configuration, Int64(bitPattern: member.seed)])
        }
    }

    /// The runs of a study in the order they were added.
    public func studyRuns(studyID: Int64) throws -> [StudyRun] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT run_id, configuration, seed FROM study_runs WHERE study_id = ? ORDER BY rowid",
                arguments: [studyID]
            ).map { row in
                let seed: Int64 = row["seed"]
                return StudyRun(
                    runID: row["run_id"], configuration: row["configuration"], seed: UInt64(bitPattern: seed))
            }
        }
    }

    static func studyInfo(_ row: Row) -> StudyInfo {
        StudyInfo(
            id: row["id"], name: row["name"], configJSON: row["config_json"], budget: row["budget"],
            createdAt: row["created_at"])
    }
}

extension Store {
    /// Checks a study name as `createStudy` will, so a command can refuse it before writing.
    public static func validateStudyName(_ name: String) throws { try validateName(name) }
}
