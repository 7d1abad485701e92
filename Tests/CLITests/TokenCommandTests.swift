import Foundation
import Testing

@Suite struct TokenCommandTests {
    @Test func sftThenSampleAndInspectThroughTheRealCLI() throws {
        let cli = CommandRunner()
        let train = try cli.run("train", "sft", "--task", "sort", "--steps", "40", "--batch-size", "16", "--eval-interval", "20", "--json")
        #expect(train.status == 0, "\(train.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as! [String: Any]
        let run = summary["run"] as! String
        #expect(summary["exact_match"] != nil && summary["completions"] as? Int == 640)

        let sample = try cli.run("sample", run, "--prompt", "315204=", "-n", "3", "--json")
        #expect(sample.status == 0, "\(sample.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(sample.stdout.utf8)) as! [String: Any]
        let completions = output["completions"] as! [[String: Any]]
        #expect(completions.count == 3)
        #expect(completions.allSatisfy { $0["logprob"] is Double && $0["reward"] is Double })

        let inspect = try cli.run("inspect", run, "--json")
        let samples = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [[String: Any]]
        #expect(Set(samples.compactMap { $0["step"] as? Int }) == [20, 40])
        #expect(try cli.run("inspect", run, "--step", "20").stdout.contains("20"))

        let bad = try cli.run("sample", run, "--prompt", "31+2=")
        #expect(bad.status == 1 && bad.stderr.contains("not in the vocabulary"))
        let long = try cli.run("sample", run, "--prompt", String(repeating: "1", count: 80))
        #expect(long.status == 1 && long.stderr.contains("context"))
        #expect(try cli.run("sample", "no-such-run", "--prompt", "1=").status == 1)
    }
}
