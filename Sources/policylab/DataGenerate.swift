import ArgumentParser
import Foundation
import Randomness
import Store
import Tasks

extension PolicyLab.DataCommand {
    /// `policylab data generate`: synthetic datasets from a toy task.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Generate a prompt dataset (with reference answers) or preference pairs (chosen = higher reward) \
                from a task.
                """)

        enum Kind: String, ExpressibleByArgument { case prompt, preference }

        @Option(help: "Task name (sort, reverse, copy, copy-letters, addition, digitsum).") var task: String
        @Option(help: "prompt or preference.") var kind: Kind
        @Option(help: "Number of rows.") var count: Int
        @Option(help: "The dataset's name.") var name: String
        @Option(help: "Seed of the generator.") var seed: UInt64 = 1
        @Flag(help: "Replace an existing dataset of the same name.") var replace = false
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard count > 0 && count <= 10_000_000 else {
                throw ValidationError("--count must be between 1 and 10,000,000")
            }
            do { _ = try TaskRegistry.task(named: task) } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            let sequenceTask = try TaskRegistry.task(named: task)
            var generator = SeededGenerator(seed: seed)
            let rows: DatasetRows
            switch kind {
            case .prompt:
                rows = .prompts(makePromptDataset(task: sequenceTask, count: count, using: &generator).map {
                    PromptRow(prompt: $0.prompt, reference: $0.reference)
                })
            case .preference:
                rows = .preferences(makePreferencePairs(task: sequenceTask, count: count, using: &generator).map {
                    PreferencePair(
                        prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected, chosenScore: $0.chosenScore,
                        rejectedScore: $0.rejectedScore)
                })
            }
            let store = try Store(path: options.databasePath)
            let info = try store.insertDataset(
                name: name, rows: rows, task: task, source: "generated: \(task) seed \(seed)", replace: replace)
            if options.json {
                JSONOutput.print(info)
            } else {
                print("generated \(info.rowCount) \(info.kind.rawValue) rows of \(task) as '\(info.name)'")
            }
        }
    }
}
