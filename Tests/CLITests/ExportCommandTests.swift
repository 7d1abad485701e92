import Foundation
import Testing

@Suite struct ExportCommandTests {
    /// The safetensors layout: u64 LE header length, JSON header (F32 entries with PyTorch names, contiguous
    /// offsets in name order, string metadata with the config), padded with spaces to a multiple of 8.
    @Test func exportWritesASafetensorsFileWithPyTorchNames() throws {
        let cli = CommandRunner()
        let train = try cli.run("train", "sft", "--task", "sort", "--steps", "2", "--batch-size", "4", "--name", "tiny")
        #expect(train.status == 0)
        let export = try cli.run("export", "tiny", "--format", "safetensors", "--out", cli.path("tiny.safetensors"))
        #expect(export.status == 0, "\(export.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cli.path("tiny.safetensors"))))
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        #expect(headerLength % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        let metadata = header["__metadata__"] as! [String: String]
        #expect(metadata["policylab_run"] == "tiny")
        #expect(metadata["config"]?.contains("\"modelWidth\":64") == true)
        let names = header.keys.filter { $0 != "__metadata__" }.sorted()
        #expect(["blocks.0.attn.qkv.weight", "value_head.weight", "tok_emb.weight"].allSatisfy(names.contains))
        var offset = 0
        for name in names {
            let entry = header[name] as! [String: Any]
            #expect(entry["dtype"] as? String == "F32")
            let shape = entry["shape"] as! [Int], offsets = entry["data_offsets"] as! [Int]
            #expect(offsets == [offset, offset + 4 * shape.reduce(1, *)], "\(name)")
            offset = offsets[1]
        }
        #expect(bytes.count == 8 + headerLength + offset)
        let qkv = (header["blocks.0.attn.qkv.weight"] as! [String: Any])["shape"] as! [Int]
        #expect(qkv == [192, 64])  // PyTorch's [out, in]
        #expect(try cli.run("export", "tiny", "--out", cli.path("x"), "--step", "999").status == 1)
    }
}
