import Foundation

/// What a study runs: configurations × seeds on one target, each run at the same budget.
///
/// Every run is an ordinary `policylab train …` command built from this plan and parsed by the train
/// commands themselves, so a study follows whatever those commands accept; the plan only sets the
/// target, the seed, the run's name and the step count that spends the budget.
struct StudyPlan: Codable, Equatable {
    enum Target: Codable, Equatable {
        /// A toy token task (`--task sort`); the budget counts completions.
        case task(String)
        /// A classic-control environment (`--env CartPole-v1`); the budget counts environment steps.
        case environment(String)
        /// A stored dataset (`--dataset PAIRS`): preference trainers (DPO and its loss types, KTO, online DPO)
        /// on a preference dataset, the budget counting pairs; or SFT on a prompt dataset, counting sequences.
        case dataset(String)
    }

    var target: Target
    /// Configuration names, in the order given: the algorithm as `train` names it (`token-ppo` for PPO on a task).
    var configurations: [String]
    var seeds: [UInt64]
    /// Samples per run: completions for a task, environment steps for an environment. With `seconds`, the
    /// cap (and the learning-rate schedule's length); 0: no cap besides the clock.
    var budget: Int
    /// Wall-clock seconds per run (`--budget seconds=S`): every run trains until S seconds have passed
    /// (`train … --max-seconds S`), so configurations get the same compute rather than the same data; nil:
    /// the budget is `budget` samples.
    var seconds: Double?
    /// Token studies: prompts per step and completions per prompt (G); their product divides the budget.
    var prompts: Int?
    var samples: Int?
    /// `--init RUN`: every run starts from this run's policy (in a dataset study it is also the preference
    /// trainers' frozen reference, `--ref`).
    var initRun: String?
    /// Dataset studies: pairs per update step (DPO, online DPO: prompts of two completions each; KTO: twice as
    /// many rows, each pair unpaired into a desirable and an undesirable row) or sequences per step (SFT).
    var batchSize: Int?
    /// Dataset studies: the task SFT's and online DPO's runs name (`train sft|online-dpo --task`); DPO and KTO
    /// read the task from the dataset or the reference run.
    var task: String?
    /// Options after `--`, given to every run's train command unchanged.
    var trainOptions: [String]
    /// Configurations written `LABEL=ALGORITHM OPTION…` in --algorithms (one algorithm under several
    /// settings, e.g. an ablation): each label's algorithm and the options only its runs get, before the
    /// shared ones. nil in plans without such configurations.
    var variants: [String: Variant]?

    struct Variant: Codable, Equatable {
        var algorithm: String
        var options: [String]
    }

    /// Splits --algorithms entries into configuration labels and, for `LABEL=ALGORITHM OPTION…` entries,
    /// their variants (options split at spaces).
    static func parseConfigurations(_ text: String) -> (configurations: [String], variants: [String: Variant]?) {
        var configurations: [String] = [], variants: [String: Variant] = [:]
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let equals = entry.firstIndex(of: "=") else {
                configurations.append(entry)
                continue
            }
            let label = entry[..<equals].trimmingCharacters(in: .whitespaces)
            let words = entry[entry.index(after: equals)...].split(separator: " ").map(String.init)
            configurations.append(label)
            variants[label] = Variant(algorithm: words.first ?? "", options: Array(words.dropFirst()))
        }
        return (configurations, variants.isEmpty ? nil : variants)
    }

    /// The algorithm name a configuration runs (its variant's, or its own).
    func algorithm(of configuration: String) -> String { variants?[configuration]?.algorithm ?? configuration }

    /// Algorithms a study can compare, by target kind (the train subcommand each one runs).
    static let taskAlgorithms = [
        "grpo": "grpo", "rloo": "rloo", "ppo": "token-ppo", "token-ppo": "token-ppo", "sft": "sft",
    ]
    static let environmentAlgorithms = [
        "ppo": "ppo", "a2c": "a2c", "reinforce": "reinforce", "ac-lambda": "ac-lambda", "off-policy": "off-policy",
        "ac-average-reward": "ac-average-reward",
    ]
    /// Dataset studies: the preference trainers (budget in pairs) and SFT (budget in sequences). Online DPO
    /// samples its pairs from the task's prompts (two completions of one prompt = one pair), so it runs the
    /// same number of pairs from the same reference without reading the dataset.
    static let datasetAlgorithms = ["dpo": "dpo", "kto": "kto", "sft": "sft", "online-dpo": "online-dpo"]
    /// The budget's unit of a dataset study's algorithm.
    static func datasetUnit(of algorithm: String) -> String { algorithm == "sft" ? "sequences" : "pairs" }
    /// The default pairs (or sequences) per step of a dataset study: DPO's and SFT's default batch size.
    static let defaultBatchSize = 64
    /// Options the plan sets itself, so they cannot also come after `--`.
    static let reservedOptions: Set = [
        "--task", "--env", "--seed", "--steps", "--total-steps", "--prompts", "--samples", "--init", "--name", "--db",
        "--json", "--help", "-h", "--max-seconds", "--dataset", "--ref", "--batch-size",
    ]
    /// Under a seconds budget without a sample cap: a step count no run reaches in practice (token update
    /// steps; environment steps), so the clock ends every run. A linearly decayed learning rate then stays
    /// near its start: give `completions=N` / `steps=N` too to set the schedule's length.
    static let uncappedTokenSteps = 1_000_000
    static let uncappedEnvironmentSteps = 1_000_000_000

    var targetName: String {
        switch target {
        case .task(let name), .environment(let name), .dataset(let name): name
        }
    }

    /// A dataset study's budget unit: sequences when it runs SFT, else pairs (validate refuses a mixture).
    var datasetUnit: String { Self.datasetUnit(of: configurations.first.map(algorithm(of:)) ?? "dpo") }

    /// Whether the study runs SFT (on a task's fresh prompts or on a prompt dataset): its budget counts sequences.
    var runsSFT: Bool { configurations.contains { algorithm(of: $0) == "sft" } }

    /// What the budget counts: completions (RL on a task), sequences (SFT), steps (environments) or pairs.
    var unit: String {
        switch target {
        case .task: runsSFT ? "sequences" : "completions"
        case .environment: "steps"
        case .dataset: datasetUnit
        }
    }

    /// The budget as the user wrote it.
    var budgetDescription: String {
        let samples = "\(unit)=\(budget)"
        guard let seconds else { return samples }
        return "seconds=\(Self.format(seconds))" + (budget > 0 ? ",\(samples)" : "")
    }

    /// `60`, `0.5`: seconds as written, without a trailing `.0`.
    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : "\(seconds)"
    }

    /// Update steps of a token run: the completions budget spent `prompts × samples` at a time.
    private var tokenSteps: Int {
        budget > 0 ? budget / ((prompts ?? 8) * (samples ?? 8)) : Self.uncappedTokenSteps
    }

    /// The budget and the step count it becomes, for the first line `study run` prints.
    var budgetMeaning: String {
        switch target {
        case .task where runsSFT, .dataset:
            let batch = batchSize ?? Self.defaultBatchSize
            return "\(budgetDescription) (\(budget / batch) steps of \(batch) \(unit)"
                + (configurations.contains { algorithm(of: $0) == "kto" }
                    ? "; KTO: \(2 * batch) rows, each pair as a desirable and an undesirable row)" : ")")
        case .task:
            let prompts = prompts ?? 8, samples = samples ?? 8
            if let seconds, budget == 0 {
                return "\(budgetDescription) (train --max-seconds \(Self.format(seconds)), steps of \(prompts) "
                    + "prompts × \(samples) completions until the clock runs out)"
            }
            return "\(budgetDescription) (\(tokenSteps) steps of \(prompts) prompts × \(samples) completions"
                + (seconds.map { ", or fewer when \(Self.format($0)) s run out)" } ?? ")")
        case .environment:
            if let seconds, budget == 0 {
                return "\(budgetDescription) (train --max-seconds \(Self.format(seconds)))"
            }
            return "\(budgetDescription) (--total-steps \(budget)"
                + (seconds.map { ", or fewer when \(Self.format($0)) s run out)" } ?? ")")
        }
    }

    /// Every (configuration, seed) pair, configurations outermost.
    var pairs: [(configuration: String, seed: UInt64)] {
        configurations.flatMap { configuration in seeds.map { (configuration, $0) } }
    }

    /// The `train` command line of one run. Token runs take `budget / (prompts × samples)` update steps, so
    /// every algorithm sees the same number of completions; control runs take `--total-steps budget`.
    func trainArguments(configuration: String, seed: UInt64, runName: String, databasePath: String) -> [String] {
        var arguments: [String]
        switch target {
        case .task(let task) where algorithm(of: configuration) == "sft":
            let batch = batchSize ?? Self.defaultBatchSize
            arguments = ["sft", "--task", task, "--steps", "\(budget / batch)", "--batch-size", "\(batch)"]
        case .task(let task):
            arguments = [
                Self.taskAlgorithms[algorithm(of: configuration)] ?? configuration, "--task", task,
                "--steps", "\(tokenSteps)", "--prompts", "\(prompts ?? 8)", "--samples", "\(samples ?? 8)",
            ]
            if let initRun { arguments += ["--init", initRun] }
        case .environment(let environment):
            arguments = [
                Self.environmentAlgorithms[algorithm(of: configuration)] ?? configuration, "--env",
                environment, "--total-steps", "\(budget > 0 ? budget : Self.uncappedEnvironmentSteps)",
            ]
        case .dataset(let dataset):
            arguments = datasetArguments(algorithm: algorithm(of: configuration), dataset: dataset)
        }
        if let seconds { arguments += ["--max-seconds", "\(seconds)"] }
        return arguments + ["--seed", "\(seed)", "--name", runName, "--db", databasePath]
            + (variants?[configuration]?.options ?? []) + trainOptions
    }

    /// A dataset study's run: `budget / batch` steps of `batch` pairs (KTO: `2 × batch` rows, the pairs
    /// unpaired as TRL's KTOTrainer does, so every algorithm sees the same pairs), or of `batch` sequences (SFT).
    private func datasetArguments(algorithm: String, dataset: String) -> [String] {
        let batch = batchSize ?? Self.defaultBatchSize
        let command = Self.datasetAlgorithms[algorithm] ?? algorithm
        var arguments = [command, "--dataset", dataset, "--steps", "\(budget / batch)"]
        switch command {
        case "sft":
            arguments += ["--batch-size", "\(batch)"] + (task.map { ["--task", $0] } ?? [])
        case "kto":
            arguments += ["--batch-size", "\(2 * batch)"] + (initRun.map { ["--ref", $0] } ?? [])
        case "online-dpo":
            arguments = [command, "--task", task ?? "", "--steps", "\(budget / batch)", "--prompts", "\(batch)"]
                + (initRun.map { ["--ref", $0] } ?? [])
        default:
            arguments += ["--batch-size", "\(batch)"] + (initRun.map { ["--ref", $0] } ?? [])
        }
        return arguments
    }

    /// Checks what can be checked without the database; the message names the flag to change.
    func validate() throws(StudyPlanError) {
        guard !configurations.isEmpty else { throw .init("--algorithms needs at least one algorithm") }
        guard Set(configurations).count == configurations.count else {
            throw .init("--algorithms names an algorithm twice")
        }
        let known: [String: String], kind: String
        switch target {
        case .task: (known, kind) = (Self.taskAlgorithms, "a --task")
        case .environment: (known, kind) = (Self.environmentAlgorithms, "an --env")
        case .dataset: (known, kind) = (Self.datasetAlgorithms, "a --dataset")
        }
        for configuration in configurations where known[algorithm(of: configuration)] == nil {
            throw .init(
                "'\(algorithm(of: configuration))' cannot run in \(kind) study; choose from "
                    + known.keys.sorted().joined(separator: ", ") + " (a variant is LABEL=ALGORITHM OPTION…)")
        }
        guard !seeds.isEmpty else { throw .init("--seeds names no seed") }
        guard budget > 0 || seconds != nil && budget == 0 else { throw .init("--budget must be positive") }
        if let seconds, !(seconds > 0 && seconds.isFinite) { throw .init("--budget seconds=S needs S > 0") }
        if case .dataset = target {
            try validateDatasetStudy()
        } else if runsSFT {
            guard configurations.allSatisfy({ algorithm(of: $0) == "sft" }) else {
                throw .init("sft counts sequences and the RL trainers count completions — run them as two studies")
            }
            try validateBatches()
            guard initRun == nil else { throw .init("sft trains from random weights — leave out --init") }
        }
        if case .task = target, budget > 0, !runsSFT {
            let perStep = (prompts ?? 8) * (samples ?? 8)
            guard perStep > 0, budget % perStep == 0 else {
                throw .init(
                    "completions=\(budget) is not a multiple of --prompts × --samples = \(perStep): "
                        + "every step spends \(perStep) completions — choose a multiple so all algorithms get the same")
            }
        }
        let variantOptions = (variants ?? [:]).values.flatMap(\.options)
        let reserved = (variantOptions + trainOptions).first { option in
            Self.reservedOptions.contains(option.split(separator: "=").first.map(String.init) ?? option)
        }
        if let reserved {
            throw .init("\(reserved) is set by the study itself — give it before `--`, or leave it out")
        }
    }

    /// A dataset study: one budget unit for all, a whole number of steps, --init for the preference trainers
    /// (their reference), --task for SFT, no clock budget (those trainers take no --max-seconds).
    private func validateDatasetStudy() throws(StudyPlanError) {
        let algorithms = configurations.map(algorithm(of:))
        guard Set(algorithms.map(Self.datasetUnit(of:))).count == 1 else {
            throw .init("sft counts sequences and the preference trainers count pairs — run them as two studies")
        }
        try validateBatches()
        if algorithms.contains("sft") {
            guard task != nil else { throw .init("sft names its task: give --task (e.g. --task sort)") }
            guard initRun == nil else { throw .init("sft trains from random weights — leave out --init") }
        } else {
            guard initRun != nil else {
                throw .init("the preference trainers need --init RUN: the starting policy and frozen reference")
            }
            if algorithms.contains("online-dpo") {
                guard task != nil else { throw .init("online-dpo samples the task's prompts: give --task") }
            } else if task != nil {
                throw .init("--task is for sft and online-dpo; dpo and kto read the task from the dataset or --init")
            }
        }
    }

    /// A study counted in pairs or sequences: no clock budget (those trainers take no --max-seconds) and a whole
    /// number of steps of --batch-size.
    private func validateBatches() throws(StudyPlanError) {
        guard seconds == nil else { throw .init("a study of \(unit) takes --budget \(unit)=N (no seconds=)") }
        let batch = batchSize ?? Self.defaultBatchSize
        guard batch > 0 else { throw .init("--batch-size must be positive") }
        guard budget % batch == 0 else {
            throw .init("\(unit)=\(budget) is not a multiple of --batch-size \(batch): every step spends "
                + "\(batch) \(unit) — choose a multiple so all algorithms get the same")
        }
    }

    /// Seeds as `1-5`, `1,3,7` or `1-3,7`, in the order given, each once.
    static func parseSeeds(_ text: String) throws(StudyPlanError) -> [UInt64] {
        var seeds: [UInt64] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = UInt64(bounds[0]), let high = bounds.count == 2 ? UInt64(bounds[1]) : low, low <= high,
                high - low < 10_000
            else {
                throw .init("--seeds '\(text)' is not a list of seeds: write 1-5, 1,3,7 or 1-3,7")
            }
            for seed in low...high where !seeds.contains(seed) { seeds.append(seed) }
        }
        return seeds
    }

    /// `completions=N` (tokens), `steps=N` (environments), `pairs=N` / `sequences=N` (datasets), `seconds=S`, or
    /// `seconds=S,completions=N` (the
    /// clock, with a sample cap). Returns the sample part (nil with seconds alone) and the seconds.
    static func parseBudget(_ text: String) throws(StudyPlanError)
        -> (samples: (unit: String, amount: Int)?, seconds: Double?) {
        let refusal = StudyPlanError(
            "--budget '\(text)' is not a budget: write completions=N for a --task study, steps=N for an --env "
                + "study, pairs=N or sequences=N for a --dataset study (N > 0), seconds=S for wall-clock seconds per "
                + "run, or both: seconds=S,completions=N")
        var samples: (unit: String, amount: Int)?, seconds: Double?
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw refusal }
            let unit = String(pair[0])
            if unit == "seconds", seconds == nil, let value = Double(pair[1]), value > 0, value.isFinite {
                seconds = value
            } else if ["completions", "steps", "pairs", "sequences"].contains(unit), samples == nil,
                let amount = Int(pair[1]), amount > 0 {
                samples = (unit, amount)
            } else {
                throw refusal
            }
        }
        guard samples != nil || seconds != nil else { throw refusal }
        return (samples, seconds)
    }
}

/// A study plan that cannot run, worded as the cause and what to change.
struct StudyPlanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
