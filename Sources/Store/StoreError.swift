/// Everything that can go wrong opening or writing the lab notebook, worded as the cause and the next step.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case notADatabase(path: String)
    case foreignDatabase(path: String)
    case newerSchema(path: String, unknownMigrations: [String])
    case cannotOpen(path: String, reason: String)
    case datasetExists(name: String)
    case unknownDataset(name: String)
    case unknownRun(reference: String)
    case runExists(name: String)
    case emptyDataset(name: String)
    case invalidName(name: String)
    case studyExists(name: String)
    case unknownStudy(name: String)
    case sqlite(String)

    public var description: String {
        switch self {
        case .notADatabase(let path):
            return "\(path) is not a SQLite database — pass a PolicyLab database with --db, "
                + "or a new file name to create one"
        case .foreignDatabase(let path):
            return "\(path) is a SQLite database but not a PolicyLab one; it was left untouched "
                + "— pass another --db path"
        case .newerSchema(let path, let unknown):
            return "\(path) was written by a newer PolicyLab (unknown migrations: "
                + "\(unknown.joined(separator: ", "))); it was left untouched — upgrade policylab to open it"
        case .cannotOpen(let path, let reason):
            return "cannot open \(path): \(reason) — check the path and its permissions"
        case .datasetExists(let name):
            return "a dataset named '\(name)' already exists — pass --replace to overwrite it, "
                + "or choose another --name"
        case .unknownDataset(let name):
            return "no dataset named '\(name)' — run `policylab data list` to see the datasets"
        case .unknownRun(let reference):
            return "no run '\(reference)' — run `policylab runs list` to see the runs"
        case .runExists(let name):
            return "a run named '\(name)' already exists — choose another --name, or leave it out for a generated one"
        case .emptyDataset(let name):
            return "dataset '\(name)' would have no rows — give at least one row"
        case .invalidName(let name):
            return "'\(name)' is not a valid name — use 1 to 200 characters without control characters"
        case .studyExists(let name):
            return "a study named '\(name)' already exists — choose another name"
        case .unknownStudy(let name):
            return "no study '\(name)' — run `policylab study list` to see the studies"
        case .sqlite(let message):
            return "database error: \(message) — the change was rolled back; check the disk and retry"
        }
    }
}
