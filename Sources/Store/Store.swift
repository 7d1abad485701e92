import Foundation
import GRDB
import Synchronization

/// The lab notebook: one SQLite file (WAL mode) holding datasets, runs, metrics, samples and checkpoints.
///
/// Opening a file is safe: a file that is not SQLite, a SQLite file that is not a PolicyLab
/// database, or one written by a newer PolicyLab is refused *before* anything is written to it.
/// Every multi-row write runs in one transaction.
///
/// A store writes nothing until its first write: a file that already holds every migration is opened
/// read-only, and the read-write connection is opened (and the file created and migrated, if needed)
/// by the first write. So a command that reads, or that refuses its input before writing, leaves the
/// file byte-for-byte unchanged. This matters because opening a read-write `DatabasePool` is itself a
/// write: when the file has no `-wal` (every clean close deletes it), GRDB creates and drops a table so
/// that the WAL is not empty, which bumps the schema cookie and rewrites pages when the WAL is
/// checkpointed on close.
public final class Store: Sendable {
    public let path: String
    private let connection: Mutex<Connection>

    /// Where reads go until the first write, and where everything goes after it.
    private enum Connection: Sendable {
        /// A read-only pool on a fully migrated file, or an empty migrated in-memory database when
        /// there is no file yet (reads then find nothing, and no file is created).
        case reading(any DatabaseReader)
        case writing(DatabasePool)
    }

    /// Opens the database at `path` without writing to it. A missing file is created by the first write;
    /// an existing file with pending migrations is migrated now (a file from an older PolicyLab).
    public init(path: String) throws {
        self.path = path
        let initial: Connection
        do {
            switch try Self.inspect(path) {
            case .missing:
                let empty = try DatabaseQueue()
                try Schema.migrator.migrate(empty)
                initial = .reading(empty)
            case .current:
                var configuration = Self.configuration
                configuration.readonly = true
                initial = .reading(try DatabasePool(path: path, configuration: configuration))
            case .needsMigration:
                initial = .writing(try Self.openForWriting(path))
            }
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
        connection = Mutex(initial)
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        return configuration
    }

    /// The read-write pool, migrated. Checks the file again: it may have appeared since `init`.
    private static func openForWriting(_ path: String) throws -> DatabasePool {
        if try inspect(path) == .current {
            return try DatabasePool(path: path, configuration: configuration)
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(pool)
        return pool
    }

    private enum FileState { case missing, current, needsMigration }

    /// Checks an existing file read-only: SQLite header, PolicyLab's application id, known migrations.
    private static func inspect(_ path: String) throws -> FileState {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "the file cannot be read")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        if header.isEmpty { return .needsMigration }  // an empty file: nothing to lose, SQLite initialises it
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
        struct Facts { var applicationID: Int32, tableCount: Int, applied: [String], journalMode: String }
        let facts = try queue.read { db in
            Facts(
                applicationID: try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                tableCount: try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0,
                applied: try db.tableExists("grdb_migrations")
                    ? String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : [],
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "")
        }
        if facts.tableCount == 0 && facts.applicationID == 0 { return .needsMigration }
        guard facts.applicationID == Schema.applicationID else { throw StoreError.foreignDatabase(path: path) }
        let known = Set(Schema.knownMigrations)
        let unknown = facts.applied.filter { !known.contains($0) }
        if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: unknown) }
        return known.isSubset(of: facts.applied) && facts.journalMode == "wal" ? .current : .needsMigration
    }

    /// Names of the migrations applied to this file, in order.
    public func appliedMigrations() throws -> [String] {
        try read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The SQLite journal mode in force (`wal` for every PolicyLab database file).
    public func journalMode() throws -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The read-write pool, opened on the first call.
    func writer() throws -> DatabasePool {
        do {
            return try connection.withLock { state throws -> DatabasePool in
                if case .writing(let pool) = state { return pool }
                let pool = try Self.openForWriting(path)
                state = .writing(pool)
                return pool
            }
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    private var reader: any DatabaseReader {
        connection.withLock { state in
            switch state {
            case .reading(let reader): reader
            case .writing(let pool): pool
            }
        }
    }

    /// Runs `body` in one write transaction, mapping SQLite errors to `StoreError`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        let pool = try writer()
        do {
            return try pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(error.message ?? "\(error.resultCode)")
        }
    }

    /// Runs `body` on a read snapshot, mapping SQLite errors to `StoreError`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try reader.read(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(error.message ?? "\(error.resultCode)")
        }
    }
}
