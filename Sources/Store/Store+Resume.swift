import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Takes an interrupted run up again at its checkpoint at `step` (`train … --resume`), in one transaction:
    /// the metric rows, samples and checkpoints logged after that step are dropped (the resumed run logs them
    /// again, the same), and the run is `running` again, owned by this process.
    public func resumeRun(id: Int64, fromCheckpointStep step: Int) throws -> RunInfo {
        try write { db in
            for table in ["metrics", "samples", "checkpoints"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE run_id = ? AND step > ?", arguments: [id, step])
            }
            try db.execute(
                sql: "UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, pid = ? WHERE id = ?",
                arguments: [Int(getpid()), id])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                throw StoreError.unknownRun(reference: "\(id)")
            }
            return Self.runInfo(row)
        }
    }
}
