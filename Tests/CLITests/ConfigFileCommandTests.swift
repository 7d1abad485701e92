import Foundation
import Testing

/// `train … --config FILE`: a run is repeated from its own record (`runs show RUN --json`), flags override
/// the file, and a bad file is refused in one line naming the key and the file, the database untouched.
@Suite struct ConfigFileCommandTests {
    /// A run's stored config (`runs show --json`'s config_json).
    func storedConfig(_ cli: CommandRunner, _ run: String) throws -> [String: Any] {
        let show = try cli.run("runs", "show", run, "--json")
        #expect(show.status == 0, "\(show.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        let text = try #require((object?["run"] as? [String: Any])?["config_json"] as? String)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A config as canonical JSON text (sorted keys), to compare two of them.
    func canonical(_ config: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A run's metric rows (step, samples, name, value) without the timing ones.
    func metricRows(_ cli: CommandRunner, _ run: String) throws -> [String] {
        let export = try cli.run("runs", "export", run, "--format", "csv")
        #expect(export.status == 0, "\(export.stderr)")
        let lines: [[Substring]] = export.stdout.split(separator: "\n").dropFirst().map {
            Array($0.split(separator: ",").dropFirst())
        }
        return lines.filter { !$0.contains("charts/SPS") }.map { $0.joined(separator: ",") }
    }

    @Test func aControlRunRepeatedFromItsRecordGivesTheSameConfigAndMetrics() throws {
        let cli = CommandRunner()
        let first = try cli.run(
            "train", "a2c", "--env", "CartPole-v1", "--total-steps", "640", "--num-envs", "4", "--learning-rate",
            "0.003", "--seed", "5", "--eval-episodes", "2", "--eval-interval", "5", "--name", "first", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        // The whole `runs show --json` output is a config file too.
        let shown = try cli.run("runs", "show", "first", "--json")
        let file = cli.write("first.json", shown.stdout)
        let again = try cli.run("train", "a2c", "--config", file, "--name", "again", "--json")
        #expect(again.status == 0, "\(again.stderr)")
        let original = try storedConfig(cli, "first"), repeated = try storedConfig(cli, "again")
        #expect(try canonical(original) == canonical(repeated))
        let rows = try metricRows(cli, "first"), repeatedRows = try metricRows(cli, "again")
        #expect(!rows.isEmpty && rows == repeatedRows)
    }

    /// PPO's per-environment defaults: a file from an Acrobot run keeps its own values, not the defaults.
    @Test func flagsOverrideTheFileEvenAtTheirDefaultValue() throws {
        let cli = CommandRunner()
        let configText = """
            {"environmentID": "Acrobot-v1", "seed": 7, "totalSteps": 256, "environments": 2, "rolloutSteps": 64,
             "epochs": 1, "minibatches": 2, "learningRate": 0.002, "annealLearningRate": false,
             "objective": {"clipCoefficient": 0.3}, "evaluationEpisodes": 1}
            """
        let file = cli.write("ppo.json", configText)
        let run = try cli.run("train", "ppo", "--config", file, "--name", "from-file", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let fromFile = try storedConfig(cli, "from-file")
        #expect(fromFile["environmentID"] as? String == "Acrobot-v1")
        #expect(fromFile["seed"] as? Int == 7 && fromFile["learningRate"] as? Double == 0.002)
        #expect(fromFile["epochs"] as? Int == 1 && fromFile["annealLearningRate"] as? Bool == false)
        #expect((fromFile["objective"] as? [String: Any])?["clipCoefficient"] as? Double == 0.3)
        // Acrobot's tuned defaults stay where the file says nothing.
        #expect(fromFile["gaeLambda"] as? Double == 0.94 && fromFile["normalizeObservations"] as? Bool == true)

        // --seed 1 is the command's default, and still overrides the file's 7; --update-epochs 2 too.
        let overridden = try cli.run(
            "train", "ppo", "--config", file, "--seed", "1", "--update-epochs", "2", "--name", "overridden", "--json")
        #expect(overridden.status == 0, "\(overridden.stderr)")
        var expected = fromFile
        expected["seed"] = 1
        expected["epochs"] = 2
        let result = try storedConfig(cli, "overridden")
        #expect(try canonical(expected) == canonical(result))
    }

    @Test func aTokenRunRepeatedFromItsConfig() throws {
        let cli = CommandRunner()
        let first = try cli.run(
            "train", "grpo", "--task", "sort", "--steps", "2", "--prompts", "2", "--samples", "2", "--beta", "0.1",
            "--eval-prompts", "4", "--seed", "3", "--name", "first", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let original = try storedConfig(cli, "first")
        let data = try JSONSerialization.data(withJSONObject: original)
        let file = cli.write("grpo.json", String(decoding: data, as: UTF8.self))
        let again = try cli.run("train", "grpo", "--config", file, "--name", "again", "--json")
        #expect(again.status == 0, "\(again.stderr)")
        let repeated = try storedConfig(cli, "again")
        #expect(try canonical(original) == canonical(repeated))
        let rows = try metricRows(cli, "first"), repeatedRows = try metricRows(cli, "again")
        #expect(!rows.isEmpty && rows == repeatedRows)
    }

    /// Every train command offers --config (the list is `policylab train --help`'s).
    @Test func everyTrainCommandTakesAConfigFile() throws {
        let cli = CommandRunner()
        let help = try cli.run("train", "--help").stdout
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        let listed = lines.drop { !$0.hasPrefix("SUBCOMMANDS") }.dropFirst().prefix { !$0.isEmpty }
        let commands = listed.filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(commands.count >= 14, "\(help)")
        for command in commands {
            #expect(try cli.run("train", command, "--help").stdout.contains("--config <file>"), "\(command)")
        }
    }

    @Test func aBadConfigFileIsOneLineNamingTheKeyAndLeavesTheDatabaseUnchanged() throws {
        let cli = CommandRunner()
        let base = try cli.run("train", "a2c", "--env", "CartPole-v1", "--total-steps", "128", "--eval-episodes", "1")
        #expect(base.status == 0, "\(base.stderr)")
        let before = FileManager.default.contents(atPath: cli.path("policylab.sqlite"))
        let cases: [(text: String, named: String)] = [
            ("{\"learningRat\": 0.1}", "'learningRat'"),
            ("{\"learningRate\": \"fast\"}", "'learningRate'"),
            ("{\"environmentID\": \"CartPole-v1\", \"gamma\": 2}", "'gamma'"),
            ("{\"environmentID\": \"Nope-v0\"}", "'environmentID'"),
            ("[1, 2]", "not a JSON object"),
            ("{\"seed\": ", "not valid JSON"),
        ]
        for (index, item) in cases.enumerated() {
            let file = cli.write("bad\(index).json", item.text)
            let result = try cli.run("train", "a2c", "--config", file, "--name", "refused")
            #expect(result.status != 0, "\(item.text)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(item.text): \(result.stderr)")
            #expect(result.stderr.contains(item.named) && result.stderr.contains(file), "\(result.stderr)")
            #expect(FileManager.default.contents(atPath: cli.path("policylab.sqlite")) == before)
        }
        #expect(try cli.run("runs", "show", "refused").status == 1)
    }
}
