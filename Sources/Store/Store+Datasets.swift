import Foundation
import GRDB

extension Store {
    /// Stores `rows` as dataset `name` in one transaction: all rows or none.
    /// With `replace`, an existing dataset of that name is deleted in the same transaction.
    @discardableResult
    public func insertDataset(
        name: String, rows: DatasetRows, task: String? = nil, source: String? = nil, replace: Bool = false
    ) throws -> DatasetInfo {
        try Self.validateName(name)
        guard rows.count > 0 else { throw StoreError.emptyDataset(name: name) }
        let findID = "SELECT id FROM datasets WHERE name = ?"
        // Refused before the write transaction (and checked again inside it), so the file stays as it was.
        if !replace, try read({ db in try Int64.fetchOne(db, sql: findID, arguments: [name]) }) != nil {
            throw StoreError.datasetExists(name: name)
        }
        return try write { db in
            if let existing = try Int64.fetchOne(db, sql: findID, arguments: [name]) {
                guard replace else { throw StoreError.datasetExists(name: name) }
                try db.execute(sql: "DELETE FROM datasets WHERE id = ?", arguments: [existing])
            }
            let createdAt = Date().timeIntervalSince1970
            try db.execute(
                sql: """
                    INSERT INTO datasets (name, kind, task, source, created_at, row_count) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [name, rows.kind.rawValue, task, source, createdAt, rows.count])
            let id = db.lastInsertedRowID
            switch rows {
            case .prompts(let prompts):
                let statement = try db.cachedStatement(
                    sql: "INSERT INTO prompts (dataset_id, idx, prompt, reference) VALUES (?, ?, ?, ?)")
                for (index, row) in prompts.enumerated() {
                    try statement.execute(arguments: [id, index, row.prompt, row.reference])
                }
            case .preferences(let pairs):
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO preference_pairs
                    (dataset_id, idx, prompt, chosen, rejected, chosen_score, rejected_score)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for (index, pair) in pairs.enumerated() {
                    try statement.execute(arguments: [
                        id, index, pair.prompt, pair.chosen, pair.rejected, pair.chosenScore, pair.rejectedScore,
                    ])
                }
            case .scored(let responses):
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO scored_responses (dataset_id, idx, prompt, response, reward) VALUES (?, ?, ?, ?, ?)
                    """)
                for (index, row) in responses.enumerated() {
                    try statement.execute(arguments: [id, index, row.prompt, row.response, row.reward])
                }
            }
            return DatasetInfo(
                id: id, name: name, kind: rows.kind, task: task, source: source, createdAt: createdAt,
                rowCount: rows.count)
        }
    }

    /// Every dataset, by name.
    public func datasets() throws -> [DatasetInfo] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY name").map(Self.datasetInfo)
        }
    }

    /// The dataset called `name`, or `StoreError.unknownDataset`.
    public func dataset(named name: String) throws -> DatasetInfo {
        try read { db in try Self.dataset(named: name, in: db) }
    }

    /// The rows of dataset `name` in their stored order (the first `limit` if given).
    public func rows(ofDataset name: String, limit: Int? = nil) throws -> DatasetRows {
        try read { db in
            let info = try Self.dataset(named: name, in: db)
            let limitClause = limit.map { " LIMIT \(max(0, $0))" } ?? ""
            switch info.kind {
            case .prompt:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, reference FROM prompts WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .prompts(rows.map { PromptRow(prompt: $0["prompt"], reference: $0["reference"]) })
            case .preference:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, chosen, rejected, chosen_score, rejected_score FROM preference_pairs
                    WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .preferences(rows.map {
                    PreferencePair(
                        prompt: $0["prompt"], chosen: $0["chosen"], rejected: $0["rejected"],
                        chosenScore: $0["chosen_score"], rejectedScore: $0["rejected_score"])
                })
            case .scored:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, response, reward FROM scored_responses
                    WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .scored(rows.map {
                    ScoredResponse(prompt: $0["prompt"], response: $0["response"], reward: $0["reward"])
                })
            }
        }
    }

    /// Deletes dataset `name` and its rows in one transaction (an unknown name is refused before any write).
    public func deleteDataset(named name: String) throws {
        _ = try dataset(named: name)
        try write { db in
            let info = try Self.dataset(named: name, in: db)
            try db.execute(sql: "DELETE FROM datasets WHERE id = ?", arguments: [info.id])
        }
    }

    static func dataset(named name: String, in db: Database) throws -> DatasetInfo {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ?", arguments: [name]) else {
            throw StoreError.unknownDataset(name: name)
        }
        return datasetInfo(row)
    }

    static func datasetInfo(_ row: Row) -> DatasetInfo {
        DatasetInfo(
            id: row["id"], name: row["name"], kind: DatasetKind(rawValue: row["kind"]) ?? .prompt,
            task: row["task"], source: row["source"], createdAt: row["created_at"], rowCount: row["row_count"])
    }

    static func validateName(_ name: String) throws {
        let hasControlCharacter = name.unicodeScalars.contains { $0.properties.generalCategory == .control }
        if name.isEmpty || name.count > 200 || hasControlCharacter { throw StoreError.invalidName(name: name) }
    }
}
