import Foundation
import Testing

@Suite struct BenchCommandTests {
    @Test func aFilterThatMatchesNoKeyFailsWithOneLine() throws {
        let result = try CommandRunner().run("bench", "--filter", "no_such_key")
        #expect(result.status == 1)
        #expect(result.stderr.contains("no bench figure's key contains 'no_such_key'"))
        #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
    }

    @Test func listNamesTheKeysAndJSONHoldsTheMeasuredOnes() throws {
        let cli = CommandRunner()
        let list = try cli.run("bench", "--list", "--filter", "sampling_")
        #expect(list.status == 0)
        #expect(list.stdout.contains("sampling_s_b1_tokens_per_s") && !list.stdout.contains("gpt_s_train"))
        let json = try cli.run("bench", "--quick", "--json", "--filter", "env_cartpole_raw")
        #expect(json.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?.keys.sorted() == ["env_cartpole_raw_steps_per_s", "machine"])
        #expect(((object?["env_cartpole_raw_steps_per_s"] as? Double) ?? 0) > 0)
        // Where it ran: the CPU and the kernel path of this build.
        let machine = object?["machine"] as? [String: Any]
        #expect(["avx512", "avx2", "neon", "portable"].contains(machine?["kernel_path"] as? String ?? ""))
        let cpu = machine?["cpu"] as? String ?? ""
        #expect(!cpu.isEmpty)
    }
}
