import Foundation
import Testing
@testable import NN
import TestSupport

@Suite struct SafeTensorsTests {
    @Test func writerReproducesTheReferenceFileByteForByte() throws {
        let original = try FixtureDirectory.bytes(of: "NNTests", file: "weights.safetensors")
        let (tensors, metadata) = try SafeTensors.read(original)
        #expect(metadata.isEmpty)
        #expect(tensors.count == 31)
        #expect(Array(original.prefix(8)) == [0xC0, 0x09, 0, 0, 0, 0, 0, 0])
        let rewritten = SafeTensors.write(tensors.mapValues { ($0.shape, $0.float32) })
        #expect(rewritten == original)
    }

    @Test func metadataAndRoundTrip() throws {
        let bytes = SafeTensors.write(
            ["b": ([2], [1.5, -2]), "a.weight": ([1, 3], [0, 1, 2])], metadata: ["config": "{\"d\":4}"])
        let (tensors, metadata) = try SafeTensors.read(bytes)
        #expect(metadata == ["config": "{\"d\":4}"])
        #expect(tensors["b"]?.float32 == [1.5, -2])
        #expect(tensors["a.weight"]?.shape == [1, 3])
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
    }

    @Test func truncatedFilesAreRejected() {
        #expect(throws: SafeTensors.FormatError.self) { try SafeTensors.read([1, 2, 3]) }
        let bytes = SafeTensors.write(["x": ([4], [1, 2, 3, 4])])
        #expect(throws: SafeTensors.FormatError.self) { try SafeTensors.read(Array(bytes.dropLast(4))) }
    }
}
