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
                Preference rows {"prompt","chosen","rejected"} (optional "chosen_score", "rejected_score", \
                or UltraFeedback's "score_chosen", "score_rejected"), prompt rows {"prompt"} (optional \
                "reference"), scored rows {"prompt","completion","reward"}, unpaired (KTO) rows \
                {"prompt","completion","label"}. Other columns (an id, a source) are kept per row and exported \
                back. Conversational rows (lists of role/content messages) are refused: the tasks are plain \
                text. Text outside the tasks' vocabulary imports; training refuses it, naming the row. The kind \
                is inferred from the first row unless --kind is given. A bad line is reported as FILE:LINE and \
                nothing is written.
                """)

        @Argument(help: "The JSONL file to import.") var file: String
        @Option(help: "The dataset's name.") var name: String
        @Option(help: "preference, prompt, scored or unpaired (default: inferred from the first row).")
        var kind: DatasetKind?
        @Option(help: "The toy task the rows belong to, if any (e.g. sort).") var task: String?
        @Flag(help: "Replace an existing dataset of the same name.") var replace = false
        @OptionGroup var options: GlobalOptions

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read \(file) — check the path")
            }
            let clock = ContinuousClock()
            let started = clock.now
            // Parsed in full before the store is opened: a bad line leaves the file as it was (or uncreated).
            let rows = try DatasetJSONL.parse([UInt8](data), file: file, kind: kind)
            let store = try Store(path: options.databasePath)
            let info = try store.insertDataset(name: name, rows: rows, task: task, source: file, replace: replace)
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if options.json {
                JSONOutput.print(info)
            } else {
                print(
                    "imported \(info.rowCount) \(info.kind.rawValue) rows as '\(info.name)' in "
                        + "\(String(format: "%.2f", seconds)) s → \(options.databasePath)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the datasets.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
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
                table.append([
                    info.name, info.kind.rawValue, "\(info.rowCount)", info.task ?? "—", info.source ?? "—",
                    formattedTime(info.createdAt),
                ])
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
            let store = try Store(path: options.databasePath)
            let info = try store.dataset(named: name)
            let rows = try store.rows(ofDataset: name, limit: limit)
            if options.json {
                struct Shown<Row: Encodable>: Encodable { let dataset: DatasetInfo; let rows: [Row] }
                switch rows {
                case .prompts(let prompts): JSONOutput.print(Shown(dataset: info, rows: prompts))
                case .preferences(let pairs): JSONOutput.print(Shown(dataset: info, rows: pairs))
                case .scored(let responses): JSONOutput.print(Shown(dataset: info, rows: responses))
                case .unpaired(let rows): JSONOutput.print(Shown(dataset: info, rows: rows))
                }
                return
            }
            print("\(info.name): \(info.rowCount) \(info.kind.rawValue) rows\(info.task.map { ", task \($0)" } ?? "")")
            switch rows {
            case .prompts(let prompts):
                var table = TableFormatter(["#", "prompt", "reference"])
                for (index, row) in prompts.enumerated() {
                    table.append(["\(index)", abbreviated(row.prompt), abbreviated(row.reference ?? "—")])
                }
                print(table.render())
            case .preferences(let pairs):
                var table = TableFormatter(["#", "prompt", "chosen", "rejected", "scores"])
                for (index, pair) in pairs.enumerated() {
                    let scores = pair.chosenScore.map { chosen in
                        "\(chosen) > \(pair.rejectedScore.map { "\($0)" } ?? "?")"
                    } ?? "—"
                    table.append([
                        "\(index)", abbreviated(pair.prompt, to: 30), abbreviated(pair.chosen, to: 30),
                        abbreviated(pair.rejected, to: 30), scores,
                    ])
                }
                print(table.render())
            case .scored(let responses):
                var table = TableFormatter(["#", "prompt", "completion", "reward"])
                for (index, row) in responses.enumerated() {
                    table.append(["\(index)", abbreviated(row.prompt), abbreviated(row.response), "\(row.reward)"])
                }
                print(table.render())
            case .unpaired(let rows):
                var table = TableFormatter(["#", "prompt", "completion", "label"])
                for (index, row) in rows.enumerated() {
                    table.append([
                        "\(index)", abbreviated(row.prompt), abbreviated(row.completion),
                        row.label ? "desirable" : "undesirable",
                    ])
                }
                print(table.render())
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a dataset as TRL-style JSONL (round-trips with import).")
        @Argument(help: "The dataset's name.") var name: String
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
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
