import ArgumentParser
import Foundation

/// Flags shared by every command that touches the database or prints results.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The PolicyLab database file (default: $POLICYLAB_DB or ./policylab.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of tables.")
    var json = false

    /// The database path after applying the default chain: `--db`, then `$POLICYLAB_DB`, then `./policylab.sqlite`.
    var databasePath: String {
        if let db { return db }
        if let fromEnvironment = ProcessInfo.processInfo.environment["POLICYLAB_DB"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "policylab.sqlite"
    }
}
