import Foundation
import TestSupport

/// Runs the real `policylab` binary built next to the test bundle, in a scratch directory that is
/// removed when the runner goes away.
final class CommandRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The scratch directory (TestSupport's, removed with the runner).
    private let scratch = TemporaryDirectory()
    var directory: URL { scratch.url }

    /// The products directory: on Linux the test bundle is an executable in it (`CommandLine.arguments[0]`).
    static var binary: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundle, bundle.deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        for candidate in candidates {
            let url = candidate.appendingPathComponent("policylab")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return bundle.appendingPathComponent("policylab")
    }

    /// The package root, to reach `datasets/`.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) -> String {
        precondition(
            FileManager.default.createFile(atPath: path(name), contents: Data(text.utf8)),
            "could not write \(path(name))")
        return path(name)
    }

    @discardableResult
    func run(_ arguments: String...) throws -> Result { try run(arguments) }

    /// The binary with `arguments`, in the scratch directory and without `POLICYLAB_DB`, not yet started
    /// (for the tests that kill it midway; `run` starts one and waits for it).
    func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "POLICYLAB_DB")
        process.environment = environment
        return process
    }

    func run(_ arguments: [String]) throws -> Result {
        let process = process(arguments)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
