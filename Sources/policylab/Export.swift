import ArgumentParser
import Foundation
import NN
import Store

extension PolicyLab {
    /// `policylab export RUN --format safetensors --out FILE`: a run's weights for PyTorch.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Export a run's weights (latest checkpoint, or --step) as safetensors, with the model config as metadata.
                """,
            discussion: """
                Tensor names follow PyTorch's state_dict (blocks.0.attn.qkv.weight, …), F32, row-major; \
                `safetensors.torch.load_file` reads the file.
                """)

        enum Format: String, ExpressibleByArgument { case safetensors }

        @Argument(help: "The run's id or name.") var reference: String
        @Option(help: "Output format.") var format: Format = .safetensors
        @Option(help: "Output file.") var out: String
        @Option(help: "Checkpoint step (default: the latest).") var step: Int?
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let store = try Store(path: options.databasePath)
            let run = try store.run(reference)
            guard let checkpoint = try store.checkpoint(runID: run.id, step: step) else {
                let steps = try store.checkpointSteps(runID: run.id)
                let available = steps.isEmpty
                    ? "it saved none" : "choose one of steps \(steps.map(String.init).joined(separator: ", "))"
                let atStep = step.map { " at step \($0)" } ?? ""
                throw CLIError("run \(run.name) has no checkpoint\(atStep) — \(available)")
            }
            // Re-encode through the reader/writer: validates the bytes and adds run metadata.
            let (tensors, metadata) = try SafeTensors.read(checkpoint.weights)
            var fullMetadata = metadata
            fullMetadata["policylab_run"] = run.name
            fullMetadata["policylab_algorithm"] = run.algorithm
            fullMetadata["policylab_target"] = run.target
            fullMetadata["policylab_step"] = "\(checkpoint.step)"
            fullMetadata["config"] = metadata["config"] ?? checkpoint.configJSON
            let bytes = SafeTensors.write(tensors.mapValues { ($0.shape, $0.float32) }, metadata: fullMetadata)
            do { try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw CLIError("cannot write \(out): \(error.localizedDescription) — check the path")
            }
            if options.json {
                struct Summary: Encodable {
                    let run: String
                    let step: Int
                    let out: String
                    let tensors: Int
                    let bytes: Int
                }
                JSONOutput.print(Summary(
                    run: run.name, step: checkpoint.step, out: out, tensors: tensors.count, bytes: bytes.count))
            } else {
                print(
                    "wrote \(tensors.count) tensors of \(run.name) (step \(checkpoint.step)) to \(out) "
                        + "(\(bytes.count) bytes)")
            }
        }
    }
}
