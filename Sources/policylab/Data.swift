import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab data …`: datasets in the lab notebook.
    struct DataCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data",
            abstract: "Import, list, show, export and delete datasets (TRL-style JSONL).",
            subcommands: [Import.self, Generate.self, List.self, Show.self, Export.self, Delete.self]
        )
    }
}

extension DatasetKind: ExpressibleByArgument {}

extension PolicyLab.DataCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a JSONL file as a dataset: all rows or none.",
            discussion: """
                Preference rows {"prompt","chosen","rejected"} (optional "chosen_score", "rejected_score"), prompt rows \
                {"prompt"} (optional "reference"), scored rows {"prompt","completion","reward"}. The kind is inferred \
                from the first row unless --kind is given. A bad line is reported as FILE:LINE and nothing is written.
                """)

        @Argument(help: "The JSONL file to import.") var file: String
        @Option(help: "The dataset's name.") var name: String
        @Option(help: "preference, prompt or scored (default: inferred from the first row).") var kind: DatasetKind?
        @Option(help: "The toy task the rows belong to, if any (e.g. sort).") var task: String?
        @Flag(help: "Replace an existing dataset of the same name.") var replace = false
        @OptionGroup var options: GlobalOptions

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read \(file) — check the path")
            }
            let started = Date()
            let rows = try DatasetJSONL.parse([UInt8](data), file: file, kind: kind)
            // Refuse a duplicate name before opening the file for writing, so it stays byte-for-byte unchanged.
            if !replace, try Store.datasetExists(named: name, atPath: options.databasePath) { throw StoreError.datasetExists(name: name) }
            let store = try Store(path: options.databasePath)
            let info = try store.insertDataset(name: name, rows: rows, task: task, source: file, replace: replace)
            let seconds = Date().timeIntervalSince(started)
            if options.json {
                JSONOutput.print(info)
            } else {
                print("imported \(info.rowCount) \(info.kind.rawValue) rows as '\(info.name)' in \(String(format: "%.2f", seconds)) s → \(options.databasePath)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the datasets.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath, readOnly: true)
            let datasets = try store.datasets()
            if options.json {
                JSONOutput.print(datasets)
                return
            }
            if datasets.isEmpty {
                print("no datasets — import one with `policylab data import FILE.jsonl --name NAME`")
                return
            }
            var table = TableFormatter(["name", "kind", "rows", "task", "source", "created (UTC)"])
            for info in datasets {
                table.append([info.name, info.kind.rawValue, "\(info.rowCount)", info.task ?? "—", info.source ?? "—", formattedTime(info.createdAt)])
            }
            print(table.render())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a dataset's first rows.")
        @Argument(help: "The dataset's name.") var name: String
        @Option(help: "How many rows to show.") var limit: Int = 10
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
        }

        func run() throws {
            let store = try Store(path: options.databasePath, readOnly: true)
            let info = try store.dataset(named: name)
            let rows = try store.rows(ofDataset: name, limit: limit)
            if options.json {
                struct Shown<Row: Encodable>: Encodable { let dataset: DatasetInfo; let rows: [Row] }
                switch rows {
                case .prompts(let r): JSONOutput.print(Shown(dataset: info, rows: r))
                case .preferences(let r): JSONOutput.print(Shown(dataset: info, rows: r))
                case .scored(let r): JSONOutput.print(Shown(dataset: info, rows: r))
                }
                return
            }
            print("\(info.name): \(info.rowCount) \(info.kind.rawValue) rows\(info.task.map { ", task \($0)" } ?? "")")
            switch rows {
            case .prompts(let prompts):
                var table = TableFormatter(["#", "prompt", "reference"])
                for (i, row) in prompts.enumerated() { table.append(["\(i)", abbreviated(row.prompt), abbreviated(row.reference ?? "—")]) }
                print(table.render())
            case .preferences(let pairs):
                var table = TableFormatter(["#", "prompt", "chosen", "rejected", "scores"])
                for (i, pair) in pairs.enumerated() {
                    let scores = pair.chosenScore.map { c in "\(c) > \(pair.rejectedScore.map { "\($0)" } ?? "?")" } ?? "—"
                    table.append(["\(i)", abbreviated(pair.prompt, to: 30), abbreviated(pair.chosen, to: 30), abbreviated(pair.rejected, to: 30), scores])
                }
                print(table.render())
            case .scored(let responses):
                var table = TableFormatter(["#", "prompt", "completion", "reward"])
                for (i, row) in responses.enumerated() { table.append(["\(i)", abbreviated(row.prompt), abbreviated(row.response), "\(row.reward)"]) }
                print(table.render())
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a dataset as TRL-style JSONL (round-trips with import).")
        @Argument(help: "The dataset's name.") var name: String
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath, readOnly: true)
            let text = DatasetJSONL.encode(try store.rows(ofDataset: name))
            if let out {
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CLIError("cannot write \(out): \(error.localizedDescription) — check the path")
                }
                if !options.json { print("wrote \(name) to \(out)") }
            } else {
                print(text, terminator: "")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a dataset and its rows.")
        @Argument(help: "The dataset's name.") var name: String
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
            try store.deleteDataset(named: name)
            if options.json { JSONOutput.print(["deleted": name]) } else { print("deleted dataset '\(name)'") }
        }
    }
}
