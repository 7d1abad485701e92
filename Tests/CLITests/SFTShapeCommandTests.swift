import Foundation
import Testing

/// `train sft --model-width C --layers L`: the policy's shape for a supervised ceiling at another size (README §
/// GRPO, `addition`), recorded in the run's config; a width the heads do not divide is refused before any run.
@Suite struct SFTShapeCommandTests {
    @Test func shapeOptionsReachTheRunAndABadWidthIsRefused() throws {
        let cli = CommandRunner()
        let train = try cli.run("train", "sft", "--task", "addition", "--steps", "2", "--batch-size", "4",
                                "--eval-interval", "0", "--model-width", "32", "--layers", "1", "--name", "small")
        #expect(train.status == 0, "\(train.stderr)")
        let show = try cli.run("runs", "show", "small", "--json")
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        let text = try #require((object?["run"] as? [String: Any])?["config_json"] as? String)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let model = try #require(config["model"] as? [String: Any])
        #expect(model["modelWidth"] as? Int == 32 && model["mlpWidth"] as? Int == 128 && model["layers"] as? Int == 1)

        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        for (option, value) in [("--model-width", "30"), ("--layers", "0")] {
            let refused = try cli.run("train", "sft", "--task", "addition", "--steps", "1", option, value)
            #expect(refused.status == 64 && refused.stderr.contains(option), "\(option): \(refused.stderr)")
        }
        #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before)
    }
}
