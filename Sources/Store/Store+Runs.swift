import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Starts a run with status `running`, owned by this process.
    public func createRun(_ spec: RunSpec) throws -> RunInfo {
        let startedAt = Date().timeIntervalSince1970
        let baseName = spec.name ?? "\(spec.target)__\(spec.algorithm)__\(spec.seed)__\(Int(startedAt))"
        try Self.validateName(baseName)
        let nameIsUsed = "SELECT 1 FROM runs WHERE name = ?"
        let alreadyUsed = StoreError.runExists(name: baseName)
        // A taken --name is refused before the write transaction (and checked again inside it).
        if spec.name != nil, try read({ db in try Int.fetchOne(db, sql: nameIsUsed, arguments: [baseName]) }) != nil {
            throw alreadyUsed
        }
        return try write { db in
            var name = baseName
            var suffix = 2
            while try Int.fetchOne(db, sql: nameIsUsed, arguments: [name]) != nil {
                guard spec.name == nil else { throw alreadyUsed }
                name = "\(baseName)_\(suffix)"
                suffix += 1
            }
            try db.execute(sql: """
                INSERT INTO runs
                (name, algorithm, target, dataset_id, parent_run_id, config_json, seed, status, started_at, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
                """, arguments: [
                    name, spec.algorithm, spec.target, spec.datasetID, spec.parentRunID, spec.configJSON,
                    Int64(bitPattern: spec.seed), startedAt, Int(getpid()),
                ])
            return RunInfo(
                id: db.lastInsertedRowID, name: name, algorithm: spec.algorithm, target: spec.target,
                datasetID: spec.datasetID, parentRunID: spec.parentRunID, configJSON: spec.configJSON, seed: spec.seed,
                status: .running, error: nil, startedAt: startedAt, finishedAt: nil)
        }
    }

    /// Ends a run: `finished`, or `failed` / `interrupted` with the error text.
    public func finishRun(id: Int64, status: RunStatus, error: String? = nil) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                arguments: [status.rawValue, error, Date().timeIntervalSince1970, id])
        }
    }

    /// Marks as `interrupted` every `running` run whose process is gone (killed, crashed, power loss).
    /// Returns how many runs changed. Writes only when there is such a run, so that reading commands
    /// leave the file untouched.
    @discardableResult
    public func markAbandonedRunsInterrupted() throws -> Int {
        func isAbandoned(_ row: Row) -> Bool {
            let pid: Int? = row["pid"]
            return !(pid.map { kill(pid_t($0), 0) == 0 || errno == EPERM } ?? false)
        }
        let select = "SELECT id, pid FROM runs WHERE status = 'running'"
        guard try read({ db in try Row.fetchAll(db, sql: select).contains(where: isAbandoned) }) else { return 0 }
        return try write { db in
            var changed = 0
            for row in try Row.fetchAll(db, sql: select) where isAbandoned(row) {
                try db.execute(sql: """
                    UPDATE runs SET status = 'interrupted',
                    error = 'the training process ended without finishing the run', finished_at = ? WHERE id = ?
                    """, arguments: [Date().timeIntervalSince1970, row["id"] as Int64])
                changed += 1
            }
            return changed
        }
    }

    /// All runs, newest first.
    public func runs() throws -> [RunInfo] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC").map(Self.runInfo) }
    }

    /// A run by id (digits) or by name.
    public func run(_ reference: String) throws -> RunInfo {
        try read { db in
            var row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE name = ?", arguments: [reference])
            if row == nil, let id = Int64(reference) {
                row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id])
            }
            guard let row else { throw StoreError.unknownRun(reference: reference) }
            return Self.runInfo(row)
        }
    }

    /// Appends metric points in one transaction.
    public func appendMetrics(runID: Int64, _ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT INTO metrics (run_id, step, samples_seen, name, value) VALUES (?, ?, ?, ?, ?)")
            for point in points {
                try statement.execute(arguments: [runID, point.step, point.samplesSeen, point.name, point.value])
            }
        }
    }

    /// Metric points of a run (one name, or all), ordered by step.
    public func metrics(runID: Int64, name: String? = nil) throws -> [MetricPoint] {
        try read { db in
            let rows: [Row]
            if let name {
                rows = try Row.fetchAll(db, sql: """
                    SELECT step, samples_seen, name, value FROM metrics
                    WHERE run_id = ? AND name = ? ORDER BY step, rowid
                    """, arguments: [runID, name])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT step, samples_seen, name, value FROM metrics WHERE run_id = ? ORDER BY step, rowid
                    """, arguments: [runID])
            }
            return rows.map(Self.metricPoint)
        }
    }

    /// The last logged value of every metric of a run.
    public func latestMetrics(runID: Int64) throws -> [MetricPoint] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.step, m.samples_seen, m.name, m.value FROM metrics m
                WHERE m.run_id = ?
                AND m.rowid = (SELECT max(rowid) FROM metrics WHERE run_id = m.run_id AND name = m.name)
                ORDER BY m.name
                """, arguments: [runID]).map(Self.metricPoint)
        }
    }

    /// Appends generated samples in one transaction.
    public func appendSamples(runID: Int64, _ samples: [SampleRecord]) throws {
        guard !samples.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO samples (run_id, step, prompt, completion, reward, logprob, source, group_index,
                advantage, length, truncated, value, token_kl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for sample in samples {
                try statement.execute(arguments: [
                    runID, sample.step, sample.prompt, sample.completion, sample.reward, sample.logprob,
                    sample.source, sample.group, sample.advantage, sample.length, sample.truncated, sample.value,
                    sample.tokenKL.map(Self.encodeTokenValues),
                ])
            }
        }
    }

    /// Samples of a run, optionally at one step, in logging order (the last `limit` when given).
    public func samples(runID: Int64, step: Int? = nil, limit: Int? = nil) throws -> [SampleRecord] {
        try read { db in
            var sql = """
                SELECT step, prompt, completion, reward, logprob, source, group_index, advantage, length, truncated,
                value, token_kl FROM samples WHERE run_id = ?
                """
            var arguments: StatementArguments = [runID]
            if let step {
                sql += " AND step = ?"
                _ = arguments.append(contentsOf: [step])
            }
            sql += " ORDER BY rowid DESC"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            return rows.reversed().map {
                let tokenKL: String? = $0["token_kl"]
                return SampleRecord(
                    step: $0["step"], prompt: $0["prompt"], completion: $0["completion"], reward: $0["reward"],
                    logprob: $0["logprob"], source: $0["source"], group: $0["group_index"],
                    advantage: $0["advantage"], length: $0["length"], truncated: $0["truncated"], value: $0["value"],
                    tokenKL: tokenKL.map(Self.decodeTokenValues))
            }
        }
    }

    /// The steps at which a run logged samples, ascending.
    public func sampleSteps(runID: Int64) throws -> [Int] {
        try read { db in
            try Int.fetchAll(
                db, sql: "SELECT DISTINCT step FROM samples WHERE run_id = ? ORDER BY step", arguments: [runID])
        }
    }

    /// Per-token values as stored: numbers separated by spaces, each with the shortest text that reads back
    /// to the same Double.
    static func encodeTokenValues(_ values: [Double]) -> String { values.map { "\($0)" }.joined(separator: " ") }

    static func decodeTokenValues(_ text: String) -> [Double] { text.split(separator: " ").compactMap { Double($0) } }

    /// Saves (or overwrites) the checkpoint of a run at `step`. A checkpoint that carries a resume state
    /// (`optimizer`: Adam's moments and the trainer's progress, about twice the weights' size) drops the states of
    /// the run's earlier checkpoints in the same transaction: `--resume` continues from the latest one only, and
    /// keeping every state made a 600-step GRPO run's database 2.5× larger (8.7 MB against 3.5 MB).
    public func saveCheckpoint(
        runID: Int64, step: Int, configJSON: String, weights: [UInt8], optimizer: [UInt8]? = nil
    ) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO checkpoints (run_id, step, config_json, weights, optimizer, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [
                    runID, step, configJSON, Data(weights), optimizer.map { Data($0) }, Date().timeIntervalSince1970,
                ])
            if optimizer != nil {
                try db.execute(sql: """
                    UPDATE checkpoints SET optimizer = NULL WHERE run_id = ? AND step < ? AND optimizer IS NOT NULL
                    """, arguments: [runID, step])
            }
        }
    }

    /// The checkpoint with the highest step (or exactly `step`), if any.
    public func checkpoint(runID: Int64, step: Int? = nil) throws -> Checkpoint? {
        try read { db in
            let row: Row?
            if let step {
                row = try Row.fetchOne(
                    db, sql: "SELECT * FROM checkpoints WHERE run_id = ? AND step = ?", arguments: [runID, step])
            } else {
                row = try Row.fetchOne(
                    db, sql: "SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1",
                    arguments: [runID])
            }
            return row.map { row in
                let weights: Data = row["weights"]
                let optimizer: Data? = row["optimizer"]
                return Checkpoint(
                    runID: row["run_id"], step: row["step"], configJSON: row["config_json"], weights: [UInt8](weights),
                    optimizer: optimizer.map { [UInt8]($0) }, createdAt: row["created_at"])
            }
        }
    }

    /// Steps at which a run has checkpoints.
    public func checkpointSteps(runID: Int64) throws -> [Int] {
        try read { db in
            try Int.fetchAll(db, sql: "SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step", arguments: [runID])
        }
    }

    static func metricPoint(_ row: Row) -> MetricPoint {
        MetricPoint(step: row["step"], samplesSeen: row["samples_seen"], name: row["name"], value: row["value"])
    }

    static func runInfo(_ row: Row) -> RunInfo {
        let seed: Int64 = row["seed"]
        return RunInfo(
            id: row["id"], name: row["name"], algorithm: row["algorithm"], target: row["target"],
            datasetID: row["dataset_id"], parentRunID: row["parent_run_id"], configJSON: row["config_json"],
            seed: UInt64(bitPattern: seed), status: RunStatus(rawValue: row["status"]) ?? .failed, error: row["error"],
            startedAt: row["started_at"], finishedAt: row["finished_at"])
    }
}
