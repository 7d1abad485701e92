import Foundation
import NN
import Policies

// What a checkpoint holds beyond the weights, so that `train … --resume RUN` continues a run bit for bit:
// Adam's t and moments (as safetensors, exact Float32), and the trainer's own progress (step counters,
// every generator's state, environments, normalisers, …) as JSON in the safetensors metadata. The
// checkpoint stores it in its `optimizer` column; the learning rate is not stored (the schedule sets it
// from the step at every step).

/// A checkpoint's resume state that cannot be read back.
public enum ResumeStateError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)

    public var description: String {
        switch self {
        case .unreadable(let reason):
            "the checkpoint's resume state is unreadable (\(reason)) — resume a run recorded by this version of "
                + "PolicyLab, or start it again"
        }
    }
}

enum ResumeState {
    /// The bytes of the state: Adam's moments as tensors, t and the trainer's progress as metadata. `models`:
    /// modules the checkpoint's weights do not hold (token PPO's value network), saved beside the moments.
    static func encode<Progress: Encodable>(
        optimizer adam: AdamW, progress: Progress, models: [any Module] = []
    ) throws -> [UInt8] {
        let optimizer = adam.state()
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (index, model) in models.enumerated() {
            for (name, tensor) in model.stateDictionary() { tensors["model.\(index).\(name)"] = tensor }
        }
        for (index, moments) in optimizer.firstMoments.enumerated() {
            tensors["optimizer.first_moment.\(index)"] = ([moments.count], moments)
        }
        for (index, moments) in optimizer.secondMoments.enumerated() {
            tensors["optimizer.second_moment.\(index)"] = ([moments.count], moments)
        }
        let metadata = [
            "optimizer_step": "\(optimizer.step)", "optimizer_parameters": "\(optimizer.firstMoments.count)",
            "progress": try progressText(progress),
        ]
        return SafeTensors.write(tensors, metadata: metadata)
    }

    /// The bytes of the state of a trainer without an optimizer (the trace actor-critics' plain SGD): its progress.
    static func encode<Progress: Encodable>(progress: Progress) throws -> [UInt8] {
        SafeTensors.write([:], metadata: ["progress": try progressText(progress)])
    }

    /// Returns the progress saved by `encode(progress:)`.
    static func decode<Progress: Decodable>(_ bytes: [UInt8], as type: Progress.Type) throws -> Progress {
        let metadata: [String: String]
        do { metadata = try SafeTensors.read(bytes).metadata } catch { throw ResumeStateError.unreadable("\(error)") }
        guard let progressText = metadata["progress"] else { throw ResumeStateError.unreadable("no progress") }
        return try decodedProgress(from: progressText)
    }

    /// The progress as JSON text (non-finite numbers as strings, so that a NaN statistic survives).
    private static func progressText<Progress: Encodable>(_ progress: Progress) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(progress), as: UTF8.self)
    }

    private static func decodedProgress<Progress: Decodable>(from text: String) throws -> Progress {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(Progress.self, from: Data(text.utf8)) } catch {
            throw ResumeStateError.unreadable("its progress does not fit this trainer: \(error)")
        }
    }

    /// Gives `optimizer` (and `models`) the state saved by `encode` and returns the trainer's progress saved
    /// with it.
    static func decode<Progress: Decodable>(
        _ bytes: [UInt8], as type: Progress.Type, optimizer: AdamW, models: [any Module] = []
    ) throws -> Progress {
        let contents: (tensors: [String: SafeTensors.Entry], metadata: [String: String])
        do { contents = try SafeTensors.read(bytes) } catch { throw ResumeStateError.unreadable("\(error)") }
        guard let step = contents.metadata["optimizer_step"].flatMap(Int.init),
            let count = contents.metadata["optimizer_parameters"].flatMap(Int.init),
            let progressText = contents.metadata["progress"]
        else { throw ResumeStateError.unreadable("no optimizer step or progress") }
        func moments(_ kind: String) throws -> [[Float]] {
            try (0..<count).map { index in
                guard let entry = contents.tensors["optimizer.\(kind).\(index)"] else {
                    throw ResumeStateError.unreadable("no \(kind) of parameter \(index)")
                }
                return entry.float32
            }
        }
        let progress: Progress = try decodedProgress(from: progressText)
        let first = try moments("first_moment"), second = try moments("second_moment")
        let sizes = optimizer.parameters.map(\.count)
        guard first.map(\.count) == sizes, second.map(\.count) == sizes else {
            throw ResumeStateError.unreadable(
                "its optimizer has moments of \(first.count) parameters, the model \(sizes.count) of other sizes")
        }
        for (index, model) in models.enumerated() {
            let prefix = "model.\(index)."
            var weights: [String: (shape: [Int], values: [Float])] = [:]
            for (name, entry) in contents.tensors where name.hasPrefix(prefix) {
                weights[String(name.dropFirst(prefix.count))] = (entry.shape, entry.float32)
            }
            do { try model.load(weights) } catch { throw ResumeStateError.unreadable("its model \(index): \(error)") }
        }
        optimizer.restore(step: step, firstMoments: first, secondMoments: second)
        return progress
    }

    /// Loads safetensors weights written by a checkpoint into `module`'s parameters.
    static func loadWeights(_ weights: [UInt8], into module: some Module) throws {
        do {
            let contents = try SafeTensors.read(weights)
            try module.load(contents.tensors.mapValues { ($0.shape, $0.float32) })
        } catch { throw ResumeStateError.unreadable("its weights: \(error)") }
    }
}
