import Foundation
import GRDB
import Testing
@testable import Store
import TestSupport

@Suite struct StoreOpeningTests {
    @Test func aNewFileIsCreatedByTheFirstWriteMigratedInWALMode() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("lab.sqlite")
        let store = try Store(path: path)
        #expect(try store.datasets().isEmpty && store.runs().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path))
        try store.insertDataset(name: "p", rows: .prompts([PromptRow(prompt: "1=")]))
        #expect(try store.appliedMigrations() == Schema.knownMigrations)
        #expect(try store.journalMode() == "wal")
        #expect(try Store(path: path).datasets().map(\.name) == ["p"])
    }

    /// Opening a current file and reading from it writes nothing, not even the WAL set-up of a
    /// read-write pool (GRDB creates and drops a table when the file has no WAL, bumping the schema cookie).
    @Test func openingAndReadingACurrentFileLeavesItsBytesAlone() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("lab.sqlite")
        do {
            let store = try Store(path: path)
            try store.insertDataset(name: "p", rows: .prompts([PromptRow(prompt: "1=")]))
            _ = try store.createRun(RunSpec(algorithm: "sft", target: "sort", configJSON: "{}", seed: 1))
        }
        let before = fileBytes(path)
        #expect(!before.isEmpty && fileBytes(path + "-wal").isEmpty)
        do {
            let store = try Store(path: path)
            #expect(try store.datasets().map(\.name) == ["p"])
            #expect(throws: StoreError.unknownDataset(name: "q")) { try store.rows(ofDataset: "q") }
            #expect(try store.markAbandonedRunsInterrupted() == 0)  // this process is alive: nothing to mark
        }
        #expect(fileBytes(path) == before)
        #expect(fileBytes(path + "-wal").isEmpty)
    }

    @Test func reopeningAMigratedFileKeepsItsData() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("lab.sqlite")
        do {
            let store = try Store(path: path)
            try store.insertDataset(name: "p", rows: .prompts([PromptRow(prompt: "1=", reference: "1")]))
        }
        let again = try Store(path: path)
        #expect(try again.appliedMigrations() == Schema.knownMigrations)
        #expect(try again.datasets().map(\.name) == ["p"])
    }

    @Test func aTextFileIsRefusedAndUntouched() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("notes.sqlite", "my precious notes\n")
        let before = fileBytes(path)
        #expect(throws: StoreError.notADatabase(path: path)) { try Store(path: path) }
        #expect(fileBytes(path) == before)
    }

    @Test func aForeignSQLiteDatabaseIsRefusedAndUntouched() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("other.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance REAL)")
                try db.execute(sql: "INSERT INTO accounts (balance) VALUES (12.5)")
            }
        }
        let before = fileBytes(path)
        #expect(throws: StoreError.foreignDatabase(path: path)) { try Store(path: path) }
        #expect(fileBytes(path) == before)
    }

    @Test func aNewerSchemaIsRefusedAndUntouched() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("future.sqlite")
        do {
            let store = try Store(path: path)
            try store.writer().write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            try store.writer().writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        let before = fileBytes(path)
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v99-from-the-future"])) {
            try Store(path: path)
        }
        #expect(fileBytes(path) == before)
    }

    @Test func aReaderIsNotBlockedByAWriterAndSeesTheOldState() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("lab.sqlite")
        let store = try Store(path: path)
        try store.insertDataset(name: "before", rows: .prompts([PromptRow(prompt: "x")]))
        let reader = try Store(path: path)
        try store.writer().write { db in
            try db.execute(sql: """
                INSERT INTO datasets (name, kind, created_at, row_count) VALUES ('during', 'prompt', 0, 0)
                """)
            // While this write transaction is open, another connection reads without waiting.
            let seen = try reader.datasets().map(\.name)
            #expect(seen == ["before"])
        }
        #expect(try reader.datasets().map(\.name) == ["before", "during"])
    }
}
