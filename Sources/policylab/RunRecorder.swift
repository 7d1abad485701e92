import Foundation
import Store
import Training

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C handling for training commands: the first SIGINT asks the trainer to stop at the next
/// update boundary (the run is then marked interrupted); a second one exits at once.
enum Interruption {
    nonisolated(unsafe) static var requested = false

    static func install() {
        signal(SIGINT) { _ in
            if Interruption.requested { _exit(130) }
            Interruption.requested = true
        }
    }
}

/// Wires a trainer's events to the Store (run, metrics, samples, checkpoints) and to the terminal.
final class RunRecorder {
    let store: Store
    let run: RunInfo
    let quiet: Bool
    private var pendingMetrics: [MetricPoint] = []
    private let clock = ContinuousClock()
    private var lastFlush: ContinuousClock.Instant

    /// Creates the run: the command's first write, so everything it refuses must be checked before this.
    init(store: Store, spec: RunSpec, quiet: Bool) throws {
        self.store = store
        self.quiet = quiet
        lastFlush = ContinuousClock.now
        run = try store.createRun(spec)
        Interruption.install()
        if !quiet { FileHandle.standardError.write(Data("run \(run.id): \(run.name)\n".utf8)) }
    }

    /// Continues a run taken up again by `--resume` (`Store.resumeRun`): it logs into the same run.
    init(store: Store, resuming run: RunInfo, step: Int, quiet: Bool) {
        self.store = store
        self.quiet = quiet
        lastFlush = ContinuousClock.now
        self.run = run
        Interruption.install()
        if !quiet {
            FileHandle.standardError.write(Data("run \(run.id): \(run.name), resumed after step \(step)\n".utf8))
        }
    }

    /// The event sink to hand to a trainer.
    func handle(_ event: TrainingEvent) throws {
        switch event {
        case .metrics(let step, let samplesSeen, let values):
            for (name, value) in values.sorted(by: { $0.key < $1.key }) where value.isFinite {
                pendingMetrics.append(MetricPoint(step: step, samplesSeen: samplesSeen, name: name, value: value))
            }
            // Batch the writes: one transaction per second at most keeps SQLite off the hot path.
            if clock.now - lastFlush > .seconds(1) { try flush() }
        case .samples(let step, let samples):
            try store.appendSamples(runID: run.id, samples.map {
                SampleRecord(
                    step: step, prompt: $0.prompt, completion: $0.completion, reward: $0.reward,
                    logprob: $0.logProbability, source: $0.source?.rawValue, group: $0.group, advantage: $0.advantage,
                    length: $0.length, truncated: $0.truncated, value: $0.value, tokenKL: $0.tokenKL)
            })
        case .checkpoint(let step, let configJSON, let weights, let optimizer):
            try flush()
            try store.saveCheckpoint(
                runID: run.id, step: step, configJSON: configJSON, weights: weights, optimizer: optimizer)
        case .progress(let line):
            if !quiet { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
    }

    func flush() throws {
        try store.appendMetrics(runID: run.id, pendingMetrics)
        pendingMetrics.removeAll(keepingCapacity: true)
        lastFlush = clock.now
    }

    /// Runs `body`, then marks the run finished, interrupted or failed (keeping its checkpoints).
    func record<T>(_ body: () throws -> T) throws -> T {
        do {
            let value = try body()
            try flush()
            try store.finishRun(id: run.id, status: .finished)
            return value
        } catch let error as TrainingError {
            try? flush()
            if case .interrupted = error {
                try store.finishRun(id: run.id, status: .interrupted, error: error.description)
                // Every trainer resumes, and `algorithm` is its `train` subcommand's name.
                throw CLIError(
                    "run \(run.name): \(error) — `policylab train \(run.algorithm) --resume \(run.name)` continues it")
            } else {
                try store.finishRun(id: run.id, status: .failed, error: error.description)
            }
            throw CLIError("run \(run.name): \(error)")
        } catch {
            try? flush()
            try? store.finishRun(id: run.id, status: .failed, error: "\(error)")
            throw error
        }
    }
}

/// Encodes a config as compact sorted JSON for the runs table.
func configJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
