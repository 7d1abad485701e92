import Benchmarks
import Foundation
import Store

/// Dataset import throughput: parse a generated JSONL file of preference pairs and insert it in one
/// transaction into a scratch database (what `data import` does), rows per second. It stays in the CLI
/// because only the CLI talks to the Store.
enum ImportBenchmark {
    static func rowsPerSecond(rows: Int) throws -> Double {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("policylab-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text = ""
        text.reserveCapacity(rows * 80)
        for i in 0..<rows {
            let digits = String(format: "%06d", (i * 7919) % 1_000_000)
            text += "{\"prompt\":\"\(digits)=\",\"chosen\":\"\(String(digits.sorted()))\",\"rejected\":\"\(digits)\"}\n"
        }
        let bytes = [UInt8](text.utf8)
        let seconds = try BenchmarkTiming.time {
            let parsed = try DatasetJSONL.parse(bytes, file: "bench.jsonl")
            let store = try Store(path: directory.appendingPathComponent("bench.sqlite").path)
            try store.insertDataset(name: "bench", rows: parsed)
        }
        return Double(rows) / seconds
    }
}
