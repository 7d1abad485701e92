import ArgumentParser
import Objectives
import Training

extension GRPOLossType: ExpressibleByArgument {}
extension RewardScaling: ExpressibleByArgument {}

extension PolicyLab.Train {
    /// `policylab train grpo --task NAME`: GRPO (`GRPOTrainer`).
    struct TrainGRPO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grpo",
            abstract: "GRPO on a toy task with its verifiable reward (TRL 1.16 semantics; random weights unless "
                + "--init).",
            discussion: "Each step samples --samples completions of --prompts prompts, scores them, and takes μ "
                + "(--iterations) AdamW steps on the clipped surrogate with group-relative advantages.")

        @OptionGroup var rl: TokenRLOptions
        @Option(help: "β: weight of the k3 KL to the starting policy (0: no reference policy).") var beta: Double = 0
        @Option(help: "ε_low: the ratio is clipped below at 1 − ε_low.") var epsilon: Double = 0.2
        @Option(help: "ε_high: the ratio is clipped above at 1 + ε_high (default: ε_low).") var epsilonHigh: Double?
        @Option(help: "grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo or vespo.") var lossType: GRPOLossType = .dapo
        @Option(help: "Advantage scaling: group, batch or none.") var scaleRewards: RewardScaling = .group
        @Option(help: "μ: optimizer steps per generation batch (TRL num_iterations).") var iterations: Int = 1
        @OptionGroup var options: GlobalOptions

        func makeConfig() -> GRPOTrainerConfig {
            var c = GRPOTrainerConfig(task: rl.task)
            rl.apply(to: &c)
            c.objective.groupSize = rl.samples
            c.objective.maxCompletionLength = rl.maxNewTokens
            if let maxGradNorm = rl.maxGradNorm { c.maxGradientNorm = maxGradNorm }
            c.objective.beta = beta
            c.objective.epsilonLow = epsilon
            c.objective.epsilonHigh = epsilonHigh
            c.objective.lossType = lossType
            c.objective.scaleRewards = scaleRewards
            c.objective.iterations = iterations
            return c
        }

        func validate() throws { try rl.check(makeConfig()) }

        func run() throws {
            let config = makeConfig()
            try rl.run(config, algorithm: "grpo", options: options) { initial, rewardModel in
                try GRPOTrainer(config: config, initial: initial, rewardModel: rewardModel).train
            }
        }
    }
}
