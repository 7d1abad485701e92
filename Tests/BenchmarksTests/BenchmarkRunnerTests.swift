import Testing
@testable import Benchmarks
import Training

@Suite struct BenchmarkRunnerTests {
    struct Broken: Error, CustomStringConvertible { var description: String { "no such environment" } }

    @Test func aFilterThatMatchesNothingIsAnError() throws {
        let figures = BenchmarkSuite.figures(quick: true)
        #expect(throws: BenchmarkError.noFigureMatches(filter: "no_such_key")) {
            try BenchmarkRunner.select(figures, filter: "no_such_key")
        }
        let sampling = try BenchmarkRunner.select(figures, filter: "sampling_s_b1")
        #expect(sampling.flatMap(\.keys).map(\.key) == ["sampling_s_b1_tokens_per_s"])
        // A companion key selects its figure, which still yields all its keys.
        let share = try BenchmarkRunner.select(figures, filter: "grpo_s_beta0_sampling_share")
        #expect(share.flatMap(\.keys).map(\.key) == ["grpo_s_beta0_completions_per_s", "grpo_s_beta0_sampling_share"])
    }

    @Test func theSuiteHasTheAnchorsKeysOnceEach() {
        let keys = BenchmarkSuite.figures(quick: false).flatMap(\.keys).map(\.key)
        #expect(Set(keys).count == keys.count)
        for key in ["env_cartpole_steps_per_s", "env_cartpole_raw_steps_per_s",
                    "ppo_cartpole_sps", "ppo_cartpole_rlzoo_sps",
                    "gemm_1t_trunk_s_gflops", "sampling_s_b1_tokens_per_s", "grpo_s_beta0_sort600_seconds",
                    "grpo_s_default_sort600_seconds"] {
            #expect(keys.contains(key), "missing \(key)")
        }
    }

    @Test func aFigureThatFailsIsReportedByKeyAndTheOthersStillRun() {
        let figures = [
            BenchmarkFigure("throws", "x") { throw Broken() },
            BenchmarkFigure("fine", "x") { 2.5 },
            BenchmarkFigure("not_a_number", "x") { .nan },
            BenchmarkFigure(keys: [("pair_a", "x"), ("pair_b", "x")]) { [1] },
        ]
        var reported: [String] = []
        let (measurements, failures) = BenchmarkRunner.run(figures) { reported.append($0.key) }
        #expect(measurements == [BenchmarkMeasurement(key: "fine", unit: "x", value: 2.5)])
        #expect(reported == ["fine"])
        #expect(failures.map(\.keys) == [["throws"], ["not_a_number"], ["pair_a", "pair_b"]])
        let message = BenchmarkError.figuresFailed(failures).description
        #expect(message.contains("throws (no such environment)") && message.contains("not_a_number measured nan"))
        #expect(!message.contains("\n"))
    }

    @Test func theCartPoleFiguresStepThroughTheirPaths() throws {
        #expect(try EnvironmentBenchmarks.cartPoleStepsPerSecond(steps: 2_000) > 0)
        #expect(EnvironmentBenchmarks.cartPoleRawStepsPerSecond(steps: 2_000) > 0)
        let config = EnvironmentBenchmarks.cleanRLCartPoleConfig(totalSteps: 500_000)
        #expect(config.batchSize == 512 && config.minibatchSize == 128)
        #expect(config.epochs == 4 && config.learningRate == 2.5e-4 && !config.bootstrapOnTruncation)
        try config.validate()
    }

    @Test func aTrainerThatLogsTooFewStepsCannotBeTimed() throws {
        let clock = StepClock(warmUp: 3)
        for _ in 0..<3 { try clock.record(.metrics(step: 1, samplesSeen: 64, values: ["loss": 0])) }
        #expect(throws: BenchmarkError.tooFewSteps(steps: 3, warmUp: 3)) { try clock.itemsPerSecond(itemsPerStep: 64) }
        try clock.record(.metrics(step: 4, samplesSeen: 256, values: ["loss": 0]))
        try clock.record(.metrics(step: 4, samplesSeen: 256, values: ["eval/exact_match": 1]))
        #expect(try clock.itemsPerSecond(itemsPerStep: 64) > 0)
        #expect(try clock.secondsToStep(4) >= clock.secondsToStep(1))
        #expect(throws: BenchmarkError.tooFewSteps(steps: 4, warmUp: 4)) { try clock.secondsToStep(5) }
    }
}
