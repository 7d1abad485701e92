import ArgumentParser
import Foundation
import Objectives
import Randomness
import Verification

extension PolicyLab {
    /// `policylab verify …`: checks that the derivation and the shipped code agree.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the lab's maths and shipped estimators against exact answers.",
            subcommands: [PolicyGradientCheck.self, AverageRewardCheck.self])
    }
}

extension PolicyLab.Verify {
    struct PolicyGradientCheck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy-gradient",
            abstract: "On a random tabular MDP: the exact ∇J (linear solve) vs finite differences, and the shipped "
                + "REINFORCE (± baseline), A2C and PPO estimators (MLPActorCritic on the tape), with and without "
                + "the γ^t factor; PPO at ratio 1, GAE(λ=1) and the AC(λ) traces against their identities.")

        @Option(help: "Monte Carlo episodes per estimator (all estimators share them).") var episodes: Int = 20_000
        @Option(help: "Episodes per batch (one update's worth); standard errors come from the batches.")
        var episodesPerBatch: Int = 8
        @Option(help: "Seed of the MDP, the policy and the episodes.") var seed: UInt64 = 2026
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard episodesPerBatch >= 1 else { throw ValidationError("--episodes-per-batch must be at least 1") }
            guard episodes >= 100, episodes >= 2 * episodesPerBatch else {
                throw ValidationError("--episodes must be at least 100 and hold two batches of --episodes-per-batch")
            }
        }

        func run() throws {
            var configuration = PolicyGradientVerificationConfiguration()
            configuration.episodes = episodes
            configuration.episodesPerBatch = episodesPerBatch
            var generator = SeededGenerator(seed: seed)
            let result = try verifyPolicyGradient(configuration, using: &generator)
            if options.json {
                JSONOutput.print(result)
            } else {
                printReport(result)
            }
            if !result.passed { throw ExitCode.failure }
        }

        private func printReport(_ result: PolicyGradientVerification) {
            let configuration = result.configuration
            print("Random MDP: \(configuration.stateCount) states × \(configuration.actionCount) actions, "
                + "γ \(configuration.discount), episodes end with probability \(configuration.terminationProbability) "
                + String(format: "per step (mean length %.2f); ", result.meanEpisodeLength)
                + String(format: "J(θ) = %.6f", result.objective))
            print("Policy: MLPActorCritic on one-hot states (a softmax table); \(configuration.episodes) episodes in "
                + "batches of \(configuration.episodesPerBatch); critic = exact v_π.")
            let plain = result.estimators.first { $0.estimator == .reinforce(baseline: false, weighting: .theorem) }
            let unweighted = result.estimators.first {
                $0.estimator == .reinforce(baseline: false, weighting: .unweighted)
            }
            var table = TableFormatter(
                ["parameter", "exact ∇J", "finite diff.", "REINFORCE γ^t ± SE", "E[no γ^t]", "REINFORCE no γ^t ± SE"])
            for index in result.exactGradient.indices {
                func estimate(_ report: EstimatorReport?) -> String {
                    guard let report else { return "—" }
                    return String(format: "%+.4f ± %.4f", report.mean[index], report.standardError[index])
                }
                table.append([
                    result.parameterNames[index], String(format: "%+.6f", result.exactGradient[index]),
                    String(format: "%+.6f", result.finiteDifferenceGradient[index]), estimate(plain),
                    String(format: "%+.6f", result.unweightedExpectation[index]), estimate(unweighted),
                ])
            }
            print(table.render())
            print("")
            var estimators = TableFormatter(["estimator", "max |z|", "mean z²", "max |z| vs ∇J", "variance/episode"])
            for report in result.estimators {
                estimators.append([
                    report.name, String(format: "%.2f", report.maxAbsoluteZScore),
                    String(format: "%.2f", report.meanSquaredZScore),
                    String(format: "%.2f", report.maxAbsoluteZScoreAgainstGradient),
                    String(format: "%.4g", report.totalVariance),
                ])
            }
            print(estimators.render())
            print(String(
                format: "z = (mean − expectation) / SE per parameter, SE from the spread of %d batch estimates; "
                    + "an estimator passes when every |z| ≤ %.1f (a correct one fails by chance with probability "
                    + "%.1e per parameter, normal approximation).",
                configuration.episodes / configuration.episodesPerBatch, configuration.zScoreLimit,
                erfc(configuration.zScoreLimit / 2.0.squareRoot())))
            print("")
            print(String(
                format: "Dropping γ^t (the trainers' default, DiscountWeighting.unweighted) estimates "
                    + "Σ_s η(s) Σ_a q ∇π instead of ∇J: exact relative bias %.3f (max-norm), cosine %.4f to ∇J.",
                result.unweightedRelativeBias, result.unweightedCosine))
            print("")
            printVerdict(result.checks)
        }
    }
}

extension PolicyLab.Verify {
    struct AverageRewardCheck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "average-reward",
            abstract: "The continuing case: the queuing task's optimal average reward by relative value iteration "
                + "(checked by a linear solve and by simulating the shipped environment), and the continuing policy "
                + "gradient theorem on a random MDP against finite differences and the shipped actor's tape.")

        @Option(help: "Steps of the Monte Carlo run of the queuing task.") var simulationSteps: Int = 1_000_000
        @Option(help: "Seed of the random MDP, its policy and the simulation.") var seed: UInt64 = 2026
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard simulationSteps >= 10_000 else { throw ValidationError("--simulation-steps must be at least 10000") }
        }

        func run() throws {
            var configuration = AverageRewardVerificationConfiguration()
            configuration.simulationSteps = simulationSteps
            var generator = SeededGenerator(seed: seed)
            let result = try verifyAverageReward(configuration, using: &generator)
            if options.json {
                JSONOutput.print(result)
            } else {
                printReport(result)
            }
            if !result.passed { throw ExitCode.failure }
        }

        private func printReport(_ result: AverageRewardVerification) {
            print(String(
                format: "Access-control queuing (S&B Example 10.2): optimal average reward r* = %.10f "
                    + "(relative value iteration, %d sweeps, bounds [%.12f, %.12f])",
                result.optimalAverageReward, result.valueIterationIterations, result.valueIterationBounds[0],
                result.valueIterationBounds[1]))
            let thresholds = zip([1, 2, 4, 8], result.acceptanceThresholds).map { priority, threshold in
                "priority \(priority): " + (threshold.map { "accept with ≥ \($0) free" } ?? "never accept")
            }
            print("Optimal policy: " + thresholds.joined(separator: "; "))
            print(String(
                format: "Its r(π) by the stationary distribution: %.10f; the shipped environment over %d steps: "
                    + "%.4f ± %.4f (SE)",
                result.greedyPolicyAverageReward, result.configuration.simulationSteps, result.simulatedAverageReward,
                result.simulatedStandardError))
            print(String(
                format: "Continuing policy gradient theorem on a random MDP (%d states × %d actions, r(π) = %.6f):",
                result.configuration.stateCount, result.configuration.actionCount, result.randomAverageReward))
            var table = TableFormatter(["θ[s, a]", "theorem ∇r", "finite diff."])
            let actionCount = result.configuration.actionCount
            for index in result.exactGradient.indices {
                table.append([
                    "θ[\(index / actionCount), \(index % actionCount)]",
                    String(format: "%+.9f", result.exactGradient[index]),
                    String(format: "%+.9f", result.finiteDifferenceGradient[index]),
                ])
            }
            print(table.render())
            print("")
            printVerdict(result.checks)
        }
    }
}

/// The verdict table every `verify` command ends with: each check's figure against its limit, then the count.
private func printVerdict(_ checks: [VerificationCheck]) {
    var table = TableFormatter(["check", "figure", "limit", "result"])
    for check in checks {
        table.append([check.name, String(format: "%.3g", check.figure), String(format: "%.3g", check.limit),
                      check.passed ? "pass" : "FAIL"])
    }
    print(table.render())
    let failed = checks.filter { !$0.passed }.count
    print(failed == 0 ? "All \(checks.count) checks pass." : "\(failed) of \(checks.count) checks FAIL.")
}
