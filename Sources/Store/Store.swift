import Foundation
import GRDB

/// The lab notebook: one SQLite file (WAL mode) holding datasets, runs, metrics, samples and checkpoints.
///
/// Opening a file is safe: a file that is not SQLite, a SQLite file that is not a PolicyLab
/// database, or one written by a newer PolicyLab is refused *before* anything is written to it.
/// A new or already-PolicyLab file is migrated on open. Every multi-row write runs in one transaction.
public final class Store: Sendable {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    ///
    /// `readOnly`: for commands that only read, an existing, fully migrated file is opened without any
    /// write, so its bytes stay as they are (a read-write open touches the header). A missing or
    /// not-yet-migrated file is opened read-write as usual.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        let fullyMigrated = try Self.refuseForeignFile(at: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        do {
            if readOnly, fullyMigrated {
                configuration.readonly = true
                pool = try DatabasePool(path: path, configuration: configuration)
                return
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// Whether dataset `name` exists, checked without writing to the file (false when there is no file).
    public static func datasetExists(named name: String, atPath path: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        try refuseForeignFile(at: path)
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            try db.tableExists("datasets") && Int.fetchOne(db, sql: "SELECT 1 FROM datasets WHERE name = ?", arguments: [name]) != nil
        }
    }

    /// Checks an existing file read-only: SQLite header, PolicyLab's application id, known migrations.
    /// Returns whether the file already holds every known migration in WAL mode (so a read-only open suffices).
    @discardableResult
    static func refuseForeignFile(at path: String) throws -> Bool {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else { return false }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "the file cannot be read")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        if header.isEmpty { return false }  // an empty file: nothing to lose, SQLite initialises it
        guard header == Data("SQLite format 3\0".utf8) else { throw StoreError.notADatabase(path: path) }

        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError.notADatabase(path: path)
        }
        defer { try? queue.close() }
        let (applicationID, tableCount, applied, journalMode): (Int32, Int, [String], String) = try queue.read { db in
            let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            var applied: [String] = []
            if try db.tableExists("grdb_migrations") {
                applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            return (id, tables, applied, mode)
        }
        if tableCount == 0 && applicationID == 0 { return false }
        guard applicationID == Schema.applicationID else { throw StoreError.foreignDatabase(path: path) }
        let known = Set(Schema.knownMigrations)
        let unknown = applied.filter { !known.contains($0) }
        if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: unknown) }
        return known.isSubset(of: applied) && journalMode == "wal"
    }

    /// Names of the migrations applied to this file, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The SQLite journal mode in force (`wal` for every PolicyLab database).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Runs `body` in one write transaction, mapping SQLite errors to `StoreError`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(error.message ?? "\(error.resultCode)")
        }
    }

    /// Runs `body` on a read snapshot, mapping SQLite errors to `StoreError`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(error.message ?? "\(error.resultCode)")
        }
    }
}
