import ArgumentParser
import Autograd

/// The `policylab` command: the root only lists subcommands (one subcommand per file,
/// declared as `extension PolicyLab { struct … }`).
///
/// Exit codes: 0 success, 1 runtime failure (the message names the cause and the next step),
/// 64 usage error (ArgumentParser's validation).
@main
struct PolicyLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policylab",
        abstract: "A lab for policy-gradient RL and preference optimisation (PPO, DPO, GRPO) on a CPU.",
        subcommands: [
            Demo.self,
            DataCommand.self,
            Runs.self,
            Env.self,
            Train.self,
            Sample.self,
            Inspect.self,
            Compare.self,
            Eval.self,
            Study.self,
            Verify.self,
            Export.self,
            Bench.self,
            Version.self,
        ]
    )

    /// Entry point: tunes the allocator for training loops (see `Allocator`), then runs the command.
    static func main() {
        Allocator.configureForTraining()
        main(nil)
    }
}
