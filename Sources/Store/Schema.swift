import GRDB

/// The database schema as named, append-only migrations (GRDB's `DatabaseMigrator`).
///
/// A migration that has shipped never changes: a new column or table is a new migration appended
/// to the list. `knownMigrations` lets the store refuse a file written by a newer PolicyLab.
enum Schema {
    /// `PRAGMA application_id` of every PolicyLab database ("PLab" in ASCII), set on creation.
    static let applicationID: Int32 = 0x504C_6162

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-datasets") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.create(table: "datasets") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .text).notNull()
                    .check(sql: "kind IN ('prompt', 'preference', 'scored')")
                t.column("task", .text)
                t.column("source", .text)
                t.column("created_at", .double).notNull()
                t.column("row_count", .integer).notNull()
            }
            try db.create(table: "prompts") { t in
                t.column("dataset_id", .integer).notNull().references("datasets", onDelete: .cascade)
                t.column("idx", .integer).notNull()
                t.column("prompt", .text).notNull()
                t.column("reference", .text)
                t.primaryKey(["dataset_id", "idx"])
            }
            try db.create(table: "preference_pairs") { t in
                t.column("dataset_id", .integer).notNull().references("datasets", onDelete: .cascade)
                t.column("idx", .integer).notNull()
                t.column("prompt", .text).notNull()
                t.column("chosen", .text).notNull()
                t.column("rejected", .text).notNull()
                t.column("chosen_score", .double)
                t.column("rejected_score", .double)
                t.primaryKey(["dataset_id", "idx"])
            }
            try db.create(table: "scored_responses") { t in
                t.column("dataset_id", .integer).notNull().references("datasets", onDelete: .cascade)
                t.column("idx", .integer).notNull()
                t.column("prompt", .text).notNull()
                t.column("response", .text).notNull()
                t.column("reward", .double).notNull()
                t.primaryKey(["dataset_id", "idx"])
            }
        }
        migrator.registerMigration("v1-runs") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("algorithm", .text).notNull()
                t.column("target", .text).notNull()
                t.column("dataset_id", .integer).references("datasets", onDelete: .setNull)
                t.column("parent_run_id", .integer).references("runs", onDelete: .setNull)
                t.column("config_json", .text).notNull()
                t.column("seed", .integer).notNull()
                t.column("status", .text).notNull()
                    .check(sql: "status IN ('running', 'finished', 'failed', 'interrupted')")
                t.column("error", .text)
                t.column("started_at", .double).notNull()
                t.column("finished_at", .double)
                t.column("pid", .integer)
            }
            try db.create(table: "metrics") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("samples_seen", .integer).notNull()
                t.column("name", .text).notNull()
                t.column("value", .double).notNull()
            }
            try db.create(index: "metrics_by_run_name_step", on: "metrics", columns: ["run_id", "name", "step"])
            try db.create(table: "samples") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("prompt", .text).notNull()
                t.column("completion", .text).notNull()
                t.column("reward", .double)
                t.column("logprob", .double)
            }
            try db.create(index: "samples_by_run_step", on: "samples", columns: ["run_id", "step"])
            try db.create(table: "checkpoints") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("config_json", .text).notNull()
                t.column("weights", .blob).notNull()
                t.column("optimizer", .blob)
                t.column("created_at", .double).notNull()
                t.primaryKey(["run_id", "step"])
            }
        }
        // Studies (issue 19): a named set of ordinary runs, configurations × seeds at one budget. A run belongs
        // to a study through `study_runs`; deleting the run removes it from the study, which then reruns that
        // (configuration, seed) pair.
        migrator.registerMigration("v2-studies") { db in
            try db.create(table: "studies") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("config_json", .text).notNull()
                t.column("budget", .text).notNull()
                t.column("created_at", .double).notNull()
            }
            try db.create(table: "study_runs") { t in
                t.column("study_id", .integer).notNull().references("studies", onDelete: .cascade)
                t.column("run_id", .integer).notNull().unique().references("runs", onDelete: .cascade)
                t.column("configuration", .text).notNull()
                t.column("seed", .integer).notNull()
            }
            try db.create(
                index: "study_runs_by_study", on: "study_runs", columns: ["study_id", "configuration", "seed"])
        }
        // What `policylab inspect RUN --step N` shows of a logged completion (issue 19 §3): where it comes from
        // (rollout or evaluation), its prompt's group, the advantage, length, truncation, and for token PPO the
        // value estimate and the per-token KL (numbers separated by spaces). NULL on older rows.
        migrator.registerMigration("v3-sample-details") { db in
            try db.alter(table: "samples") { t in
                t.add(column: "source", .text)
                t.add(column: "group_index", .integer)
                t.add(column: "advantage", .double)
                t.add(column: "length", .integer)
                t.add(column: "truncated", .boolean)
                t.add(column: "value", .double)
                t.add(column: "token_kl", .text)
            }
        }
        // Datasets as users have them (issue 21): every row keeps the file's other columns as JSON
        // (`extra_json`, NULL when there are none), a preference pair remembers which spelling its scores had,
        // and TRL's unpaired (KTO) rows get a kind and a table of their own. SQLite cannot change a CHECK
        // constraint in place, so `datasets` is rebuilt with the new kind (SQLite's documented 12-step
        // procedure; GRDB runs migrations with foreign keys off and checks them when the migration ends).
        migrator.registerMigration("v4-dataset-extras") { db in
            for table in ["prompts", "preference_pairs", "scored_responses"] {
                try db.alter(table: table) { t in t.add(column: "extra_json", .text) }
            }
            try db.alter(table: "preference_pairs") { t in t.add(column: "score_names", .text) }
            try db.create(table: "unpaired_completions") { t in
                t.column("dataset_id", .integer).notNull().references("datasets", onDelete: .cascade)
                t.column("idx", .integer).notNull()
                t.column("prompt", .text).notNull()
                t.column("completion", .text).notNull()
                t.column("label", .boolean).notNull()
                t.column("extra_json", .text)
                t.primaryKey(["dataset_id", "idx"])
            }
            try db.create(table: "new_datasets") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .text).notNull()
                    .check(sql: "kind IN ('prompt', 'preference', 'scored', 'unpaired')")
                t.column("task", .text)
                t.column("source", .text)
                t.column("created_at", .double).notNull()
                t.column("row_count", .integer).notNull()
            }
            try db.execute(sql: """
                INSERT INTO new_datasets (id, name, kind, task, source, created_at, row_count)
                SELECT id, name, kind, task, source, created_at, row_count FROM datasets
                """)
            try db.drop(table: "datasets")
            try db.rename(table: "new_datasets", to: "datasets")
        }
        // Evaluations (issue 23): `policylab eval RUN` evaluates a checkpoint again and keeps the result, with the
        // settings it used, beside the run.
        migrator.registerMigration("v5-evaluations") { db in
            try db.create(table: "evaluations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("checkpoint_step", .integer).notNull()
                t.column("settings_json", .text).notNull()
                t.column("results_json", .text).notNull()
                t.column("created_at", .double).notNull()
            }
            try db.create(index: "evaluations_by_run", on: "evaluations", columns: ["run_id"])
        }
        return migrator
    }

    /// Names of every migration this build knows, in order.
    static var knownMigrations: [String] { migrator.migrations }
}
