import Foundation
import GRDB

/// A stored evaluation of a run's checkpoint (`policylab eval`): what was measured and how.
public struct EvaluationRecord: Equatable, Sendable, Codable {
    public var id: Int64
    public var runID: Int64
    public var checkpointStep: Int
    /// The evaluation's settings (episodes or prompts, seed, greedy or temperature), as JSON.
    public var settingsJSON: String
    /// Its figures (return mean and std, or exact match and reward), as JSON.
    public var resultsJSON: String
    public var createdAt: Double
}

extension Store {
    /// Keeps an evaluation of `runID`'s checkpoint at `checkpointStep`; returns its id.
    @discardableResult
    public func saveEvaluation(
        runID: Int64, checkpointStep: Int, settingsJSON: String, resultsJSON: String
    ) throws -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO evaluations (run_id, checkpoint_step, settings_json, results_json, created_at)
                VALUES (?, ?, ?, ?, ?)
                """, arguments: [runID, checkpointStep, settingsJSON, resultsJSON, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    /// The evaluations of a run, oldest first.
    public func evaluations(runID: Int64) throws -> [EvaluationRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM evaluations WHERE run_id = ? ORDER BY id", arguments: [runID]
            ).map { row in
                EvaluationRecord(
                    id: row["id"], runID: row["run_id"], checkpointStep: row["checkpoint_step"],
                    settingsJSON: row["settings_json"], resultsJSON: row["results_json"], createdAt: row["created_at"])
            }
        }
    }
}
