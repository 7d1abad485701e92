import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Store

/// `policylab study …` through the real binary, at budgets of a few updates.
@Suite struct StudyCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func refusedStudiesLeaveNoDatabase() throws {
        let cli = CommandRunner()
        let refusals: [([String], Int32, String)] = [
            (["--env", "CartPole-v1", "--algorithms", "ppo,grpo", "--budget", "steps=512"], 64, "'grpo' cannot run"),
            (["--env", "CartPole-v1", "--algorithms", "ppo", "--budget", "completions=512"], 64, "steps=N"),
            (["--task", "sort", "--algorithms", "grpo", "--budget", "completions=100"], 64, "not a multiple"),
            (["--task", "sort", "--algorithms", "grpo", "--budget", "completions=64", "--seeds", "3-1"], 64, "--seeds"),
            (["--task", "sort", "--algorithms", "grpo", "--budget", "completions=64", "--", "--seed", "3"], 64,
             "set by the study"),
            (["--env", "CartPole-v1", "--algorithms", "ppo", "--budget", "steps=512", "--", "--eval-episodes", "-1"], 1,
             "would be refused"),
            (["--task", "sort", "--algorithms", "grpo", "--budget", "completions=64", "--init", "nope"], 1, "no run"),
            ([], 1, "no study"),
        ]
        for (arguments, status, message) in refusals {
            let result = try cli.run(["study", "run", "s"] + arguments)
            #expect(result.status == status && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }

    @Test func aControlStudyRunsResumesAndSummarises() throws {
        let cli = CommandRunner()
        let plan = [
            "--env", "CartPole-v1", "--algorithms", "ppo,a2c", "--seeds", "1-2", "--budget", "steps=512", "--",
            "--eval-episodes", "2",
        ]
        let first = try cli.run(["study", "run", "cp"] + plan)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("study cp: run 1 of 4") && first.stderr.contains("study cp: run 4 of 4"))
        #expect(first.stderr.contains("elapsed") && first.stderr.contains("left"))
        #expect(first.stdout.contains("4 of 4 runs finished"))

        let shown = try Self.json(try cli.run("study", "show", "cp", "--json").stdout)
        #expect(shown["metrics"] as? [String] == ["eval/return_mean", "wall_seconds"], "never eval/exact_match")
        let configurations = try #require(shown["configurations"] as? [[String: Any]])
        #expect(configurations.compactMap { $0["configuration"] as? String } == ["ppo", "a2c"])
        for configuration in configurations {
            let metrics = try #require(configuration["metrics"] as? [String: [String: Any]])
            let returns = try #require(metrics["eval/return_mean"])
            #expect(returns["count"] as? Int == 2 && returns["interval"] != nil && returns["standard_deviation"] != nil)
        }
        let runs = try #require(shown["runs"] as? [[String: Any]])
        #expect(runs.compactMap { $0["run"] as? String } == ["cp__ppo__1", "cp__ppo__2", "cp__a2c__1", "cp__a2c__2"])
        #expect(runs.allSatisfy { ($0["samples_seen"] as? Int ?? 0) >= 512 })
        let differences = try #require(shown["differences"] as? [[String: Any]])
        #expect(differences.contains {
            $0["metric"] as? String == "eval/return_mean" && $0["first"] as? String == "ppo"
        })

        let human = try cli.run("study", "show", "cp")
        #expect(human.status == 0 && human.stdout.contains("ppo − a2c") && human.stdout.contains("95 % CI"))
        #expect(!human.stdout.contains("eval/exact_match"))
        #expect(try cli.run("runs", "show", "cp__a2c__1").status == 0)
        #expect(try cli.run("compare", "cp__ppo__1", "cp__a2c__1").status == 0)
        #expect(try cli.run("study", "list").stdout.contains("4/4"))
        for axis in ["samples", "seconds"] {
            let chart = try cli.run("study", "show", "cp", "--svg", "cp.svg", "--x", axis)
            #expect(chart.status == 0, "\(chart.stderr)")
            try Self.checkChartGeometry(String(contentsOfFile: cli.path("cp.svg"), encoding: .utf8))
        }

        // What kill -9 leaves: the last run interrupted and not yet recorded in the study.
        let store = try Store(path: cli.path("policylab.sqlite"))
        let killed = try store.run("cp__a2c__2")
        try store.writer().write { db in
            try db.execute(sql: "DELETE FROM study_runs WHERE run_id = ?", arguments: [killed.id])
            try db.execute(sql: "UPDATE runs SET status = 'interrupted' WHERE id = ?", arguments: [killed.id])
        }
        let resumed = try cli.run("study", "run", "cp")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("3 of 4 runs already finished; running the 1 missing: a2c seed 2"))
        #expect(resumed.stderr.contains("run 1 of 1") && !resumed.stderr.contains("run 2 of"))
        #expect(try store.runs().count == 5, "only the missing run ran again")
        #expect(try store.run("cp__a2c__2__2").status == .finished)
        let again = try Self.json(try cli.run("study", "show", "cp", "--json").stdout)
        let counts = (again["configurations"] as? [[String: Any]])?.compactMap {
            (($0["metrics"] as? [String: [String: Any]])?["eval/return_mean"])?["count"] as? Int
        }
        #expect(counts == [2, 2])

        let nothing = try cli.run(["study", "run", "cp"] + plan)
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to run"))
        let other = try cli.run(
            "study", "run", "cp", "--env", "CartPole-v1", "--algorithms", "ppo", "--budget", "steps=512")
        #expect(other.status == 1 && other.stderr.contains("other settings"))
        #expect(try store.runs().count == 5)
    }

    /// The legend lies inside the canvas, ticks are equally spaced by 1, 2 or 5 × 10ⁿ, the seeds are stated
    /// and every configuration has a shaded band.
    static func checkChartGeometry(_ svg: String) throws {
        func attribute(_ name: String, in element: Substring) throws -> Double {
            let range = try #require(element.range(of: "\(name)=\""))
            let rest = element[range.upperBound...]
            return try #require(Double(rest.prefix { $0 != "\"" }))
        }
        let root = try #require(svg.split(separator: ">").first)
        let canvasWidth = try attribute(" width", in: root), canvasHeight = try attribute(" height", in: root)
        let legend = try #require(svg.split(separator: "\n").first { $0.contains("class=\"legend\"") })
        let (x, y) = (try attribute(" x", in: legend), try attribute(" y", in: legend))
        let (width, height) = (try attribute(" width", in: legend), try attribute(" height", in: legend))
        #expect(x >= 0 && y >= 0 && x + width <= canvasWidth && y + height <= canvasHeight)
        let longestLabel = svg.split(separator: "\n").filter { $0.contains("font-size=\"11\">") && $0.contains("seed") }
            .map { $0.split(separator: ">")[1].split(separator: "<")[0].count }.max() ?? 0
        #expect(longestLabel > 0 && Double(longestLabel) * 7 <= width, "the legend is wide enough for its labels")
        #expect(svg.contains("over 2 seeds") && svg.contains("class=\"band\""))
        for axis in ["tick-x", "tick-y"] {
            let ticks = try svg.split(separator: "\n").filter { $0.contains("class=\"\(axis)\"") }.map {
                try #require(Double($0.split(separator: ">")[1].split(separator: "<")[0]))
            }
            #expect(ticks.count >= 3, "\(axis): \(ticks)")
            let step = ticks[1] - ticks[0]
            let mantissa = step / pow(10, log10(step).rounded(.down))
            #expect([1.0, 2, 5].contains { abs(mantissa - $0) < 1e-6 }, "\(axis) step \(step)")
            for (low, high) in zip(ticks, ticks.dropFirst()) { #expect(abs(high - low - step) < step * 1e-6) }
            #expect(ticks.allSatisfy { abs($0 / step - ($0 / step).rounded()) < 1e-6 }, "\(axis): \(ticks)")
        }
    }

    @Test func aTokenStudyGivesEveryAlgorithmTheSameCompletions() throws {
        let cli = CommandRunner()
        let sft = try cli.run(
            "train", "sft", "--task", "sort", "--steps", "4", "--batch-size", "8", "--eval-interval", "4",
            "--name", "base")
        #expect(sft.status == 0, "\(sft.stderr)")
        let study = try cli.run(
            "study", "run", "tok", "--task", "sort", "--algorithms", "grpo,rloo,token-ppo", "--seeds", "1,2",
            "--budget", "completions=16", "--prompts", "1", "--samples", "8", "--init", "base", "--",
            "--eval-prompts", "8", "--eval-interval", "1")
        #expect(study.status == 0, "\(study.stderr)")
        let shown = try Self.json(try cli.run("study", "show", "tok", "--json").stdout)
        #expect(shown["metrics"] as? [String] == ["eval/exact_match", "eval/reward", "wall_seconds"])
        let runs = try #require(shown["runs"] as? [[String: Any]])
        #expect(runs.count == 6)
        #expect(runs.allSatisfy { $0["samples_seen"] as? Int == 16 && $0["status"] as? String == "finished" })
        let store = try Store(path: cli.path("policylab.sqlite"))
        #expect(try store.run("tok__token-ppo__2").parentRunID == (try store.run("base").id))
        #expect(try store.run("tok__token-ppo__2").algorithm == "token-ppo")
    }

    /// A real `kill -9` of `study run` in the middle of a run; the same command again runs only the pairs without
    /// a finished run, says so, and duplicates no finished pair. The killed attempt stays visible as interrupted,
    /// with "—" for the metrics it never logged.
    @Test func aStudyKilledMidRunResumesOnlyTheMissingRuns() throws {
        let cli = CommandRunner()
        let command = [
            "study", "run", "k", "--env", "CartPole-v1", "--algorithms", "ppo,a2c", "--seeds", "1-2", "--budget",
            "steps=8192", "--", "--eval-episodes", "2",
        ]
        let process = cli.process(command)
        let stderrPath = cli.write("killed.stderr", "")
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Killed just after the second run starts (on a loaded machine it may already have finished).
        let deadline = ContinuousClock.now + .seconds(600)
        while !(try String(contentsOfFile: stderrPath, encoding: .utf8)).contains("run 2 of 4"),
            process.isRunning, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        Thread.sleep(forTimeInterval: 0.05)
        try #require(process.isRunning, "the study was still running when killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let store = try Store(path: cli.path("policylab.sqlite"))
        let finishedBefore = try store.runs().filter { $0.status == .finished }.count
        #expect((1...3).contains(finishedBefore), "killed mid-study: \(finishedBefore) finished")
        let missing = 4 - finishedBefore
        let resumed = try cli.run(command)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("\(finishedBefore) of 4 runs already finished; running the \(missing) missing"))
        #expect(resumed.stderr.contains("run \(missing) of \(missing)"))
        #expect(!resumed.stderr.contains("of \(missing + 1) "), "only the missing runs ran")
        #expect(resumed.stdout.contains("4 of 4 runs finished"))

        let runs = try store.runs()
        let finished = runs.filter { $0.status == .finished }
        #expect(finished.count == 4, "one finished run per (configuration, seed)")
        #expect(Set(finished.map { "\($0.algorithm) \($0.seed)" }).count == 4, "no pair ran twice")
        #expect(runs.count - finished.count <= 1 && runs.allSatisfy { $0.status != .running })
        #expect(try cli.run("study", "list").stdout.contains("4/4"))

        let shown = try Self.json(try cli.run("study", "show", "k", "--json").stdout)
        let members = try #require(shown["runs"] as? [[String: Any]])
        for member in members {
            let metrics = try #require(member["metrics"] as? [String: Double])
            if member["status"] as? String == "finished" {
                #expect(metrics["eval/return_mean"] != nil && metrics["wall_seconds"] != nil)
            } else {
                #expect(metrics.isEmpty, "an interrupted run never logged a final metric: \(metrics)")
            }
            #expect(metrics["eval/exact_match"] == nil && metrics["samples"] == nil)
        }
        let counts = (shown["configurations"] as? [[String: Any]])?.compactMap {
            (($0["metrics"] as? [String: [String: Any]])?["eval/return_mean"])?["count"] as? Int
        }
        #expect(counts == [2, 2])
    }

    /// `--budget seconds=S`: every run trains until its clock runs out (under the step cap), finishes, and records
    /// the samples it used, which `study show` summarises as `samples`.
    @Test func aSecondsBudgetFinishesEveryRunAndRecordsItsSamples() throws {
        let cli = CommandRunner()
        let study = try cli.run(
            "study", "run", "sec", "--env", "CartPole-v1", "--algorithms", "ppo,reinforce", "--seeds", "1-2",
            "--budget", "seconds=0.3,steps=2000000", "--", "--eval-episodes", "1")
        #expect(study.status == 0, "\(study.stderr)")
        #expect(study.stdout.contains("seconds=0.3,steps=2000000"))
        let shown = try Self.json(try cli.run("study", "show", "sec", "--json").stdout)
        #expect(shown["metrics"] as? [String] == ["eval/return_mean", "wall_seconds", "samples"])
        let runs = try #require(shown["runs"] as? [[String: Any]])
        #expect(runs.count == 4 && runs.allSatisfy { $0["status"] as? String == "finished" })
        for run in runs {
            let samples = try #require(run["samples_seen"] as? Int)
            #expect(samples > 0 && samples < 2_000_000, "stopped by the clock: \(samples)")
            #expect((run["metrics"] as? [String: Double])?["samples"] == Double(samples))
        }

        let token = try cli.run(
            "train", "grpo", "--task", "sort", "--steps", "1000", "--prompts", "1", "--eval-prompts", "8",
            "--max-seconds", "0.05", "--json")
        #expect(token.status == 0, "\(token.stderr)")
        let summary = try Self.json(token.stdout)
        let completions = try #require(summary["completions"] as? Int)
        #expect(completions >= 8 && completions < 8_000 && completions % 8 == 0)
        for refused in [["--budget", "seconds=0"], ["--budget", "seconds=1,seconds=2"], ["--budget", "minutes=1"]] {
            let result = try cli.run(["study", "run", "bad", "--env", "CartPole-v1", "--algorithms", "ppo"] + refused)
            #expect(result.status == 64 && result.stderr.contains("is not a budget"), "\(refused)")
        }
        let negative = try cli.run("train", "a2c", "--env", "CartPole-v1", "--max-seconds", "0")
        #expect(negative.status == 64 && negative.stderr.contains("--max-seconds must be positive"))
    }
}
