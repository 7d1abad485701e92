import ArgumentParser
import Foundation
import NN
import Policies
import Store
import Tasks
import Training

/// The settings `TokenRLOptions` fills, which the configs of GRPO, RLOO and token PPO all have.
protocol TokenRLCommandConfig: Encodable {
    var task: String { get set }
    var seed: UInt64 { get set }
    var model: TransformerConfig { get set }
    var steps: Int { get set }
    var promptsPerStep: Int { get set }
    var maxNewTokens: Int { get set }
    var temperature: Float { get set }
    var learningRate: Double { get set }
    var decayLearningRate: Bool { get set }
    var adamBeta1: Double { get set }
    var adamBeta2: Double { get set }
    var adamEpsilon: Double { get set }
    var weightDecay: Double { get set }
    var evaluationPrompts: Int { get set }
    var evaluationInterval: Int { get set }
    func validate() throws
}

extension GRPOTrainerConfig: TokenRLCommandConfig {}
extension RLOOTrainerConfig: TokenRLCommandConfig {}
extension TokenPPOTrainerConfig: TokenRLCommandConfig {}

/// Options of the token RL commands (`train grpo`, `train rloo`, `train token-ppo`), every one used by
/// all three: each step samples --samples completions of --prompts prompts from the policy and scores them.
struct TokenRLOptions: ParsableArguments {
    /// --task, --dataset and --reward.
    @OptionGroup var source: RolloutSourceOptions
    @Option(name: .customLong("init"), help: "Start from this run's latest checkpoint instead of random weights.")
    var initRun: String?
    @Option(help: "Seed of every random draw.") var seed: UInt64 = 1
    @Option(help: "Update steps (one generation batch each).") var steps: Int = 600
    @Option(help: "Prompts per step.") var prompts: Int = 8
    @Option(help: "Completions per prompt (G); the budget is steps × prompts × samples completions.")
    var samples: Int = 8
    @Option(help: "Maximum new tokens per completion.") var maxNewTokens: Int = 8
    @Option(help: "Sampling temperature (the loss's log-probs are taken at it too; default 1, or GRPO's preset).")
    var temperature: Float?
    @Option(help: "AdamW learning rate, decayed linearly to 0 unless --constant-lr (default 1e-3, or GRPO's preset).")
    var learningRate: Double?
    @Flag(help: "Keep the learning rate constant.") var constantLr = false
    @Option(help: "Global gradient-norm clip (default: 1.0 for grpo and rloo, none for token-ppo, as in TRL).")
    var maxGradNorm: Double?
    @Option(help: "Adam β₁.") var adamBeta1: Double = 0.9
    @Option(help: "Adam β₂.") var adamBeta2: Double = 0.999
    @Option(help: "Adam ε.") var adamEpsilon: Double = 1e-8
    @Option(help: "AdamW weight decay on matrices and embeddings.") var weightDecay: Double = 0
    @Option(help: "Model width when starting from random weights (refused with --init).") var modelWidth: Int?
    @Option(help: "Transformer layers when starting from random weights (refused with --init).") var layers: Int?
    @Flag(help: "Give the LM head its own weights, not the token embedding's (GPT-2 ties them; refused with --init).")
    var untiedEmbeddings = false
    @Option(help: "Held-out prompts for the greedy evaluation.") var evalPrompts: Int = 256
    @Option(help: "Evaluate (and checkpoint) every this many steps; 0: only at the end.") var evalInterval: Int = 100
    @Option(help: "Run name.") var name: String?
    @Option(help: ArgumentHelp("Stop after this many seconds of training: the update under way finishes, "
        + "then the run is evaluated and finished; --steps stays the cap and the learning-rate schedule's length."))
    var maxSeconds: Double?

    /// The task named by --task; empty until `run` reads a --dataset's recorded task.
    var task: String { source.task ?? "" }

    /// Copies the shared options into a trainer's config.
    func apply<Config: TokenRLCommandConfig>(to config: inout Config) {
        config.task = task
        config.seed = seed
        config.steps = steps
        config.promptsPerStep = prompts
        config.maxNewTokens = maxNewTokens
        // Left out: the config's own default (1 and 1e-3; GRPO's preset may set others).
        if let temperature { config.temperature = temperature }
        if let learningRate { config.learningRate = learningRate }
        config.decayLearningRate = !constantLr
        config.adamBeta1 = adamBeta1
        config.adamBeta2 = adamBeta2
        config.adamEpsilon = adamEpsilon
        config.weightDecay = weightDecay
        let width = modelWidth ?? config.model.modelWidth
        config.model.modelWidth = width
        config.model.mlpWidth = 4 * width
        if let layers { config.model.layers = layers }
        config.model.tiedEmbeddings = !untiedEmbeddings
        config.evaluationPrompts = evalPrompts
        config.evaluationInterval = evalInterval
    }

    /// Refuses a config its trainer would refuse, and shape options that --init would ignore.
    func check(_ config: some TokenRLCommandConfig) throws {
        if let maxSeconds, !(maxSeconds > 0) {
            throw ValidationError("--max-seconds must be positive (or left out for no time limit)")
        }
        if initRun != nil && (modelWidth != nil || layers != nil || untiedEmbeddings) {
            throw ValidationError("--model-width, --layers and --untied-embeddings shape random weights; "
                + "--init starts from a run's weights — drop one of them")
        }
        try source.check()
        do { try config.validate() } catch { throw ValidationError("\(error)") }
    }

    /// Trains `config` (its task set to the one --task or the --dataset names) with the trainer
    /// `makeTrainer` builds from it, the --init policy and the rollout source (--dataset's prompts, the
    /// --reward terms), recorded as a run of `algorithm`.
    func run<Config: TokenRLCommandConfig>(
        _ config: Config, algorithm: String, options: GlobalOptions,
        makeTrainer: (_ config: Config, _ initial: TransformerPolicy?, _ source: RolloutSource) throws
            -> (TrainingEventSink, () -> Bool, WallClockBudget) throws -> TokenTrainingResult
    ) throws {
        let store = try Store(path: options.databasePath)
        let (task, rolloutSource, datasetID) = try source.resolve(store: store)
        var config = config
        config.task = task
        var initial: TransformerPolicy?
        var parent: Int64?
        if let initRun {
            let (run, policy) = try loadPolicy(run: initRun, store: store)
            (initial, parent) = (policy, run.id)
        }
        let train: (TrainingEventSink, () -> Bool, WallClockBudget) throws -> TokenTrainingResult
        do { train = try makeTrainer(config, initial, rolloutSource) } catch { throw CLIError("\(error)") }
        let spec = RunSpec(name: name, algorithm: algorithm, target: config.task, datasetID: datasetID,
                           parentRunID: parent, configJSON: source.recordedConfigJSON(config), seed: seed)
        let recorder = try RunRecorder(store: store, spec: spec, quiet: options.json)
        let result = try recorder.record {
            try train(recorder.handle, { Interruption.requested }, WallClockBudget(seconds: maxSeconds))
        }
        printTokenSummary(run: recorder.run.name, result: result, json: options.json)
    }
}

/// The model of a reward-model run (`--reward RUN`), refused with one line when the run is another kind.
func loadRewardModel(run reference: String, store: Store) throws -> TransformerPolicy {
    let (run, model) = try loadPolicy(run: reference, store: store)
    guard run.algorithm == "reward-model" else {
        throw CLIError("run \(run.name) is a \(run.algorithm) run, not a reward model — train one with "
            + "`policylab train reward-model`")
    }
    return model
}
