/// One measurement of `policylab bench`: a key of `--json`, its unit and its value.
public struct BenchmarkMeasurement: Sendable, Equatable {
    public var key: String
    public var unit: String
    public var value: Double
    public init(key: String, unit: String, value: Double) {
        self.key = key
        self.unit = unit
        self.value = value
    }
}

/// A figure of the suite: one measurement run that yields one value per key (a token trainer's run
/// gives its throughput and its sampling share, for instance).
public struct BenchmarkFigure {
    /// (key, unit) of each value `measure` returns, in order.
    public let keys: [(key: String, unit: String)]
    let measure: () throws -> [Double]

    public init(_ key: String, _ unit: String, _ measure: @escaping () throws -> Double) {
        keys = [(key, unit)]
        self.measure = { [try measure()] }
    }

    public init(keys: [(key: String, unit: String)], _ measure: @escaping () throws -> [Double]) {
        self.keys = keys
        self.measure = measure
    }

    /// Whether `filter` (a substring) selects this figure: it matches any of its keys.
    func matches(_ filter: String) -> Bool { keys.contains { $0.key.contains(filter) } }
}

/// A figure that could not be measured: its keys and why.
public struct BenchmarkFailure: Sendable, Equatable {
    public var keys: [String]
    public var reason: String
}

public enum BenchmarkError: Error, CustomStringConvertible, Equatable {
    case noFigureMatches(filter: String)
    case figuresFailed([BenchmarkFailure])
    case tooFewSteps(steps: Int, warmUp: Int)

    public var description: String {
        switch self {
        case .noFigureMatches(let filter):
            "no bench figure's key contains '\(filter)' — run `policylab bench --list` for the keys"
        case .figuresFailed(let failures):
            "bench figure" + (failures.count == 1 ? "" : "s") + " failed: "
                + failures.map { "\($0.keys.joined(separator: ", ")) (\($0.reason))" }.joined(separator: "; ")
        case .tooFewSteps(let steps, let warmUp):
            "the trainer logged \(steps) steps, too few to time after \(warmUp) warm-up steps"
        }
    }
}

/// Runs the figures of the suite that a filter selects.
public enum BenchmarkRunner {
    /// The figures whose keys contain `filter` (all without one), or `noFigureMatches`.
    public static func select(_ figures: [BenchmarkFigure], filter: String?) throws -> [BenchmarkFigure] {
        guard let filter else { return figures }
        let selected = figures.filter { $0.matches(filter) }
        guard !selected.isEmpty else { throw BenchmarkError.noFigureMatches(filter: filter) }
        return selected
    }

    /// Measures every figure in turn, handing each value to `report` as it comes; a figure that throws,
    /// returns the wrong number of values or a non-finite value is a failure (the others still run).
    public static func run(
        _ figures: [BenchmarkFigure], report: (BenchmarkMeasurement) -> Void
    ) -> (measurements: [BenchmarkMeasurement], failures: [BenchmarkFailure]) {
        var measurements: [BenchmarkMeasurement] = [], failures: [BenchmarkFailure] = []
        for figure in figures {
            let keys = figure.keys.map(\.key)
            do {
                let values = try figure.measure()
                guard values.count == figure.keys.count else {
                    let reason = "gave \(values.count) values for \(keys.count) keys"
                    failures.append(BenchmarkFailure(keys: keys, reason: reason))
                    continue
                }
                if let bad = zip(keys, values).first(where: { !$0.1.isFinite }) {
                    failures.append(BenchmarkFailure(keys: keys, reason: "\(bad.0) measured \(bad.1)"))
                    continue
                }
                for ((key, unit), value) in zip(figure.keys, values) {
                    let measurement = BenchmarkMeasurement(key: key, unit: unit, value: value)
                    measurements.append(measurement)
                    report(measurement)
                }
            } catch {
                failures.append(BenchmarkFailure(keys: keys, reason: "\(error)"))
            }
        }
        return (measurements, failures)
    }
}
