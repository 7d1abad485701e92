import ArgumentParser
import Foundation
import Randomness
import Training

extension PolicyLab {
    /// `policylab verify …`: checks that the derivation and the code agree.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the lab's maths against exact answers.", subcommands: [PolicyGradientCheck.self])
    }
}

extension PolicyLab.Verify {
    struct PolicyGradientCheck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy-gradient",
            abstract: "The policy-gradient theorem on a random tabular MDP: exact ∇J vs finite differences vs REINFORCE (± baseline) Monte Carlo.")

        @Option(help: "Monte-Carlo episodes per estimator.") var episodes: Int = 20_000
        @Option(help: "Seed of the MDP and the episodes.") var seed: UInt64 = 2026
        @OptionGroup var options: GlobalOptions

        func validate() throws { guard episodes >= 100 else { throw ValidationError("--episodes must be at least 100") } }

        func run() throws {
            var configuration = PolicyGradientVerificationConfiguration()
            configuration.episodes = episodes
            var generator = SeededGenerator(seed: seed)
            let result = verifyPolicyGradient(configuration, using: &generator)
            if options.json {
                JSONOutput.print(result)
            } else {
                print("Random MDP: \(configuration.stateCount) states × \(configuration.actionCount) actions, γ \(configuration.discount), episodes end with probability \(configuration.terminationProbability) per step; J(θ) = \(String(format: "%.6f", result.objective))")
                var table = TableFormatter(["s", "a", "exact ∇J", "finite diff.", "REINFORCE ± SE", "with baseline ± SE"])
                for c in result.components {
                    table.append(["\(c.state)", "\(c.action)", String(format: "%+.6f", c.exact), String(format: "%+.6f", c.finiteDifference),
                                  String(format: "%+.4f ± %.4f", c.reinforceMean, c.reinforceStandardError), String(format: "%+.4f ± %.4f", c.baselineMean, c.baselineStandardError)])
                }
                print(table.render())
                print(String(format: "finite differences: relative error %.2e (tolerance %.0e) — %@", result.finiteDifferenceRelativeError, configuration.finiteDifferenceTolerance, result.finiteDifferenceAgrees ? "agree" : "DISAGREE"))
                print(String(format: "REINFORCE: max |z| %.2f over %d episodes — %@; with baseline: max |z| %.2f — %@", result.reinforce.maxAbsoluteZScore, episodes, result.reinforce.agrees ? "unbiased within its standard errors" : "BIASED",
                             result.reinforceWithBaseline.maxAbsoluteZScore, result.reinforceWithBaseline.agrees ? "unbiased within its standard errors" : "BIASED"))
                print(String(format: "variance with baseline / without: %.3f — the baseline %@ variance", result.varianceRatio, result.baselineReducesVariance ? "lowers" : "does not lower"))
            }
            if !result.passed { throw ExitCode.failure }
        }
    }
}
