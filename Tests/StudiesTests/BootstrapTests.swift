import Foundation
import Testing
@testable import Studies

/// Compares the bootstrap with numpy on the same per-seed numbers (Fixtures/bootstrap.json, made by
/// Fixtures/make_bootstrap_fixture.py): each endpoint within 4 Monte-Carlo standard deviations of numpy's
/// B = 400 000 interval, the standard deviations measured by numpy at our B = 10 000.
@Suite struct BootstrapTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let a: [Double]
            let b: [Double]?
            let lower, upper, lowerMcSd, upperMcSd, mean, std: Double
        }
        let resamples: Int
        let level: Double
        let cases: [Case]
    }

    static func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bootstrap.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test func intervalsMatchNumpyWithinMonteCarloError() throws {
        let fixture = try Self.fixture()
        let bootstrap = Bootstrap(resamples: fixture.resamples, level: fixture.level)
        #expect(fixture.cases.count == 5)
        for test in fixture.cases {
            let interval: ConfidenceInterval?
            if let b = test.b {
                interval = bootstrap.differenceInterval(test.a, b)
                #expect(MeanDifference(test.a, b, bootstrap: bootstrap)?.interval == interval)
            } else {
                interval = bootstrap.meanInterval(test.a)
                let summary = try #require(SeedSummary(test.a, bootstrap: bootstrap))
                #expect(abs(summary.mean - test.mean) < 1e-12 && summary.count == test.a.count)
                #expect(abs(try #require(summary.standardDeviation) - test.std) < 1e-12)
                #expect(summary.interval == interval)
            }
            let found = try #require(interval, "\(test.name)")
            #expect(abs(found.lower - test.lower) <= 4 * test.lowerMcSd, "\(test.name): \(found) vs numpy")
            #expect(abs(found.upper - test.upper) <= 4 * test.upperMcSd, "\(test.name): \(found) vs numpy")
        }
    }

    @Test func theBootstrapIsDeterministicAndItsSeedMatters() {
        let values = [0.19, 0.32, 0.29, 0.05, 0.79]
        #expect(Bootstrap().meanInterval(values) == Bootstrap().meanInterval(values))
        #expect(Bootstrap(seed: 1).meanInterval(values) != Bootstrap(seed: 2).meanInterval(values))
    }

    @Test func oneSeedHasNoSpreadAndNoSeedHasNoSummary() throws {
        #expect(SeedSummary([]) == nil)
        let single = try #require(SeedSummary([0.4]))
        #expect(single.mean == 0.4 && single.count == 1 && single.standardDeviation == nil && single.interval == nil)
        #expect(MeanDifference([], [1]) == nil)
        #expect(MeanDifference([1], [0.5])?.difference == 0.5)
        #expect(MeanDifference([1], [0.5])?.excludesZero == false)
    }

    @Test func differencesKnowWhetherTheyExcludeZero() throws {
        let clear = try #require(MeanDifference([0.9, 0.85, 0.95, 0.88], [0.1, 0.2, 0.15, 0.05, 0.12]))
        #expect(clear.excludesZero)
        let overlapping = try #require(MeanDifference([0.41, 0.023, 0.09, 0.281, 0.33], [0.164, 0.184, 0.543, 0.223]))
        #expect(!overlapping.excludesZero)
    }

    @Test func percentileInterpolatesAsNumpy() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 97.5, 100]) = [1, 1.75, 2.5, 3.925, 4]
        let sorted = [1.0, 2, 3, 4]
        let expected = [1, 1.75, 2.5, 3.925, 4]
        for (q, value) in zip([0, 0.25, 0.5, 0.975, 1], expected) {
            #expect(abs(Bootstrap.percentile(sorted: sorted, q) - value) < 1e-12)
        }
    }
}
