import Foundation

/// A fresh directory under the system temp folder, removed when the value is deinitialised.
public final class TemporaryDirectory {
    public let url: URL

    public init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("policylab-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func write(_ name: String, _ text: String) -> String {
        write(name, bytes: Array(text.utf8))
    }

    public func write(_ name: String, bytes: [UInt8]) -> String {
        let path = path(name)
        precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "could not write \(path)")
        return path
    }
}

/// The bytes of a file (empty if missing), to check that a refused operation changed nothing.
public func fileBytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
}
