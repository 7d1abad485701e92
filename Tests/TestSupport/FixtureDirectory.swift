import Foundation

/// Where the committed fixtures live: `Tests/<test target>/Fixtures/<file>`, found from this file's
/// own path so that every test target reaches every fixture folder (PoliciesTests reads NNTests's
/// transformer oracle) without copying it.
public enum FixtureDirectory {
    /// `Tests/`, the folder holding every test target.
    static let testsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/<testTarget>/Fixtures`.
    public static func url(of testTarget: String) -> URL {
        testsRoot.appendingPathComponent(testTarget).appendingPathComponent("Fixtures")
    }

    /// `Tests/<testTarget>/Fixtures/<name>`.
    public static func url(of testTarget: String, file name: String) -> URL {
        url(of: testTarget).appendingPathComponent(name)
    }

    /// The bytes of a fixture file (a safetensors file, say).
    public static func bytes(of testTarget: String, file name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(of: testTarget, file: name)))
    }
}
