/// What `study run` declares when it creates a study.
public struct StudySpec: Sendable {
    public var name: String
    /// The study's plan (configurations, seeds, target, options) as JSON, compared when the study is resumed.
    public var configJSON: String
    /// The budget every run gets, as given (`completions=12800`, `steps=50000`).
    public var budget: String

    public init(name: String, configJSON: String, budget: String) {
        self.name = name
        self.configJSON = configJSON
        self.budget = budget
    }
}

/// A study as stored.
public struct StudyInfo: Equatable, Sendable, Codable {
    public var id: Int64
    public var name: String
    public var configJSON: String
    public var budget: String
    public var createdAt: Double
}

/// A run that belongs to a study: which configuration and seed it is.
public struct StudyRun: Equatable, Sendable, Codable {
    public var runID: Int64
    public var configuration: String
    public var seed: UInt64

    public init(runID: Int64, configuration: String, seed: UInt64) {
        self.runID = runID
        self.configuration = configuration
        self.seed = seed
    }
}
