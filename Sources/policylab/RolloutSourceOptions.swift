import ArgumentParser
import Foundation
import Store
import Tasks
import Training

/// One term of `--reward`, as written.
enum RewardTerm: Equatable {
    /// The task's verifier (in [0, 1]).
    case task(weight: Double)
    /// A reward-model run's score.
    case rewardModel(run: String, weight: Double)
    /// The completion's length in tokens, EOS included.
    case length(weight: Double)

    static let syntax = "task[:W], rm:RUN[:W] or length:W, comma-separated (e.g. task:1,rm:RUN:0.5,length:-0.05)"

    /// `--reward`: comma-separated terms `task`, `task:W`, `rm:RUN`, `rm:RUN:W`, `length:W` (W a weight,
    /// default 1 where it may be left out); a lone run name is `rm:RUN:1`, as `--reward RUN` always was.
    static func parse(_ text: String) throws -> [RewardTerm] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if items.count == 1, !items[0].isEmpty, !items[0].contains(":"), items[0] != "task", items[0] != "length" {
            return [.rewardModel(run: items[0], weight: 1)]
        }
        func weight(_ text: Substring, in item: String) throws -> Double {
            guard let value = Double(text), value.isFinite else {
                throw ValidationError("--reward term '\(item)': '\(text)' is not a weight — use \(syntax)")
            }
            return value
        }
        var terms: [RewardTerm] = []
        for item in items {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            let term: RewardTerm
            switch (String(parts[0]), parts.count) {
            case ("task", 1): term = .task(weight: 1)
            case ("task", 2): term = .task(weight: try weight(parts[1], in: item))
            case ("length", 2): term = .length(weight: try weight(parts[1], in: item))
            case ("rm", 2) where !parts[1].isEmpty: term = .rewardModel(run: String(parts[1]), weight: 1)
            case ("rm", 3) where !parts[1].isEmpty:
                term = .rewardModel(run: String(parts[1]), weight: try weight(parts[2], in: item))
            default: throw ValidationError("--reward term '\(item)' is not one of \(syntax)")
            }
            guard !terms.contains(where: { $0.name == term.name }) else {
                throw ValidationError("--reward names '\(term.name)' twice — give each term once")
            }
            terms.append(term)
        }
        return terms
    }

    /// The component's name in `rewards/<name>/mean`: task, length, or the run as written.
    var name: String {
        switch self {
        case .task: "task"
        case .rewardModel(let run, _): run
        case .length: "length"
        }
    }
}

/// Where the token RL commands (grpo, rloo, token-ppo) and online DPO take their training prompts from —
/// the task's generator, or the rows of a stored prompt dataset — and how they score completions.
struct RolloutSourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Task (sort, reverse, copy, copy-letters, addition, digitsum): its prompts, verifier "
        + "and held-out evaluation; with --dataset, the dataset's recorded task unless given."))
    var task: String?
    @Option(help: ArgumentHelp("Draw training prompts from this stored prompt dataset; one distinct prompt in 10 "
        + "(by a hash of its text) is held out for the greedy evaluation."))
    var dataset: String?
    @Option(help: ArgumentHelp("The reward: task (the verifier), a reward-model run, or a weighted sum of "
        + RewardTerm.syntax + "; each term is logged as rewards/<name>/mean."))
    var reward: String = "task"

    /// The syntax checks that need no database.
    func check() throws {
        guard task != nil || dataset != nil else {
            throw ValidationError("name a --task, or a --dataset of prompts that records one")
        }
        if let task {
            do { _ = try TaskRegistry.task(named: task) } catch { throw ValidationError("\(error)") }
        }
        _ = try RewardTerm.parse(reward)
    }

    /// The task, the rollout source and the dataset's id, read from the database (nothing written).
    func resolve(store: Store) throws -> (task: String, source: RolloutSource, datasetID: Int64?) {
        var taskName = task
        var stored: (info: DatasetInfo, prompts: [TaskPrompt])?
        if let dataset {
            let info = try store.dataset(named: dataset)
            guard case .prompts(let rows) = try store.rows(ofDataset: dataset) else {
                throw CLIError("dataset '\(dataset)' holds \(info.kind.rawValue) rows; --dataset needs prompts — "
                    + "generate them with `policylab data generate --kind prompt` or import {\"prompt\"} rows")
            }
            stored = (info, rows.map { TaskPrompt(prompt: $0.prompt, reference: $0.reference ?? "") })
            taskName = taskName ?? info.task
        }
        guard let taskName else {
            throw CLIError(
                "dataset '\(dataset ?? "")' records no task — name the verifier and evaluation with --task")
        }
        let sequenceTask: any SequenceTask
        do { sequenceTask = try TaskRegistry.task(named: taskName) } catch {
            throw CLIError("dataset '\(dataset ?? "")' records the task '\(taskName)', which PolicyLab does not "
                + "know — name one with --task")
        }
        let reward = try rewardSource(reward, task: sequenceTask, store: store)
        guard let stored else { return (taskName, RolloutSource(reward: reward), nil) }
        do {
            return (taskName, try RolloutSource.promptDataset(stored.prompts, reward: reward), stored.info.id)
        } catch { throw CLIError("dataset '\(stored.info.name)': \(error)") }
    }

    /// The run's config JSON: the trainer's config, plus `reward` and `dataset` when they are not the
    /// defaults (a run with neither records exactly the config, as before).
    func recordedConfigJSON(_ config: some Encodable) -> String {
        let plain = configJSON(config)
        guard reward != "task" || dataset != nil,
              var object = try? JSONSerialization.jsonObject(with: Data(plain.utf8)) as? [String: Any] else {
            return plain
        }
        object["reward"] = reward
        if let dataset { object["dataset"] = dataset }
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? plain
    }
}

/// The reward source `--reward` names for `task`: each term's scorer, the reward-model runs loaded from the
/// database (nothing written).
func rewardSource(_ specification: String, task: any SequenceTask, store: Store) throws -> RewardSource {
    let components = try RewardTerm.parse(specification).map { term -> RewardSource.Component in
        switch term {
        case .task(let weight): return .init(name: term.name, weight: weight, scorer: .verifier(task))
        case .length(let weight): return .init(name: term.name, weight: weight, scorer: .length)
        case .rewardModel(let run, let weight):
            let model = try loadRewardModel(run: run, store: store)
            return .init(name: term.name, weight: weight, scorer: .rewardModel(RewardModelScorer(model: model)))
        }
    }
    return RewardSource(components: components)
}
