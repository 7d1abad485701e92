import ArgumentParser
import Foundation
import Store

extension PolicyLab {
    /// `policylab study …`: configurations × seeds at one budget, run, resumed and summarised.
    struct Study: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare algorithms over seeds at an equal budget: run a study, list studies, show one.",
            subcommands: [RunStudy.self, List.self, Show.self]
        )
    }
}

extension PolicyLab.Study {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the studies, newest first.")
        @OptionGroup var options: GlobalOptions

        struct Listed: Encodable {
            let name: String
            let target: String
            let configurations: [String]
            let seeds: [UInt64]
            let budget: String
            let finishedRuns: Int
            let plannedRuns: Int
            let createdAt: Double
        }

        func run() throws {
            let store = try Store(path: options.databasePath)
            var listed: [Listed] = []
            for study in try store.studies() {
                let plan = try StudyRecord.plan(of: study)
                let finished = try StudyRecord.finishedPairs(study: study, store: store)
                listed.append(Listed(
                    name: study.name, target: plan.targetName, configurations: plan.configurations, seeds: plan.seeds,
                    budget: study.budget, finishedRuns: finished.count, plannedRuns: plan.pairs.count,
                    createdAt: study.createdAt))
            }
            if options.json {
                JSONOutput.print(listed)
                return
            }
            if listed.isEmpty {
                print("no studies yet — start one with `policylab study run NAME --task sort --algorithms grpo,rloo`")
                return
            }
            var table = TableFormatter(["name", "target", "configurations", "seeds", "budget", "runs", "created (UTC)"])
            for study in listed {
                table.append([
                    study.name, study.target, study.configurations.joined(separator: ","),
                    StudyRecord.describe(seeds: study.seeds), study.budget,
                    "\(study.finishedRuns)/\(study.plannedRuns)", formattedTime(study.createdAt),
                ])
            }
            print(table.render())
        }
    }
}

/// Reading a study back from the store: its plan and which of its (configuration, seed) pairs are done.
enum StudyRecord {
    struct Pair: Hashable {
        let configuration: String
        let seed: UInt64
    }

    static func plan(of study: StudyInfo) throws -> StudyPlan {
        do {
            return try JSONDecoder().decode(StudyPlan.self, from: Data(study.configJSON.utf8))
        } catch {
            throw CLIError("study \(study.name) has a plan this policylab cannot read — run it with the version "
                + "that created it")
        }
    }

    /// Each pair with a finished run, mapped to that run (the latest one, should there be several).
    static func finishedPairs(study: StudyInfo, store: Store) throws -> [Pair: RunInfo] {
        var finished: [Pair: RunInfo] = [:]
        for member in try store.studyRuns(studyID: study.id) {
            let run = try store.run("\(member.runID)")
            if run.status == .finished { finished[Pair(configuration: member.configuration, seed: member.seed)] = run }
        }
        return finished
    }

    /// `1-5` for consecutive seeds, else `1,3,7`.
    static func describe(seeds: [UInt64]) -> String {
        if let first = seeds.first, seeds.count > 2, seeds == Array(first..<(first + UInt64(seeds.count))) {
            return "\(first)-\(first + UInt64(seeds.count) - 1)"
        }
        return seeds.map(String.init).joined(separator: ",")
    }
}

/// Encodes a plan with sorted keys: the form stored, and compared when a study runs again.
func studyPlanJSON(_ plan: StudyPlan) -> String { configJSON(plan) }
