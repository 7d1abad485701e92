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
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO prompts (dataset_id, idx, prompt, reference, extra_json) VALUES (?, ?, ?, ?, ?)
                    """)
                for (index, row) in prompts.enumerated() {
                    try statement.execute(arguments: [id, index, row.prompt, row.reference, Self.json(row.extra)])
                }
            case .preferences(let pairs):
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO preference_pairs
                    (dataset_id, idx, prompt, chosen, rejected, chosen_score, rejected_score, score_names, extra_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for (index, pair) in pairs.enumerated() {
                    try statement.execute(arguments: [
                        id, index, pair.prompt, pair.chosen, pair.rejected, pair.chosenScore, pair.rejectedScore,
                        pair.scoreNames == .policyLab ? nil : pair.scoreNames.rawValue, Self.json(pair.extra),
                    ])
                }
            case .scored(let responses):
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO scored_responses (dataset_id, idx, prompt, response, reward, extra_json)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for (index, row) in responses.enumerated() {
                    try statement.execute(arguments: [
                        id, index, row.prompt, row.response, row.reward, Self.json(row.extra),
                    ])
                }
            case .unpaired(let rows):
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO unpaired_completions (dataset_id, idx, prompt, completion, label, extra_json)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for (index, row) in rows.enumerated() {
                    try statement.execute(arguments: [
                        id, index, row.prompt, row.completion, row.label, Self.json(row.extra),
                    ])
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
                    SELECT prompt, reference, extra_json FROM prompts WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .prompts(try rows.map {
                    PromptRow(prompt: $0["prompt"], reference: $0["reference"], extra: try Self.extra($0))
                })
            case .preference:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, chosen, rejected, chosen_score, rejected_score, score_names, extra_json
                    FROM preference_pairs WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .preferences(try rows.map {
                    PreferencePair(
                        prompt: $0["prompt"], chosen: $0["chosen"], rejected: $0["rejected"],
                        chosenScore: $0["chosen_score"], rejectedScore: $0["rejected_score"],
                        scoreNames: ($0["score_names"] as String?).flatMap(ScoreColumnNames.init) ?? .policyLab,
                        extra: try Self.extra($0))
                })
            case .scored:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, response, reward, extra_json FROM scored_responses
                    WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .scored(try rows.map {
                    ScoredResponse(
                        prompt: $0["prompt"], response: $0["response"], reward: $0["reward"], extra: try Self.extra($0))
                })
            case .unpaired:
                let rows = try Row.fetchAll(db, sql: """
                    SELECT prompt, completion, label, extra_json FROM unpaired_completions
                    WHERE dataset_id = ? ORDER BY idx\(limitClause)
                    """, arguments: [info.id])
                return .unpaired(try rows.map {
                    UnpairedCompletion(
                        prompt: $0["prompt"], completion: $0["completion"], label: $0["label"],
                        extra: try Self.extra($0))
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

    /// A row's other columns as one JSON object (keys sorted), NULL when it has none.
    static func json(_ extra: ExtraColumns) -> String? {
        guard !extra.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, finite numbers, booleans and nulls always encode; the values come from a parsed file.
        guard let data = try? encoder.encode(extra) else { preconditionFailure("unencodable extra columns") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `extra_json` column of a fetched row (empty when NULL).
    static func extra(_ row: Row) throws -> ExtraColumns {
        guard let text: String = row["extra_json"] else { return [:] }
        do {
            return try JSONDecoder().decode(ExtraColumns.self, from: Data(text.utf8))
        } catch {
            throw StoreError.sqlite("a dataset row's extra_json is not a JSON object (\(error))")
        }
    }

    static func validateName(_ name: String) throws {
        let hasControlCharacter = name.unicodeScalars.contains { $0.properties.generalCategory == .control }
        if name.isEmpty || name.count > 200 || hasControlCharacter { throw StoreError.invalidName(name: name) }
    }
}
