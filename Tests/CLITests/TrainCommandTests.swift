import Foundation
import Testing

@Suite struct TrainCommandTests {
    @Test func trainPPOPrintsJSONAndRecordsTheRun() throws {
        let cli = CommandRunner()
        let result = try cli.run(
            "train", "ppo", "--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "2", "--seed", "3",
            "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        for key in ["run", "eval_return_mean", "eval_return_std", "env_steps", "wall_seconds", "sps"] {
            #expect(summary[key] != nil, "missing \(key)")
        }
        #expect(summary["env_steps"] as? Int == 2560)
        let show = try cli.run("runs", "show", summary["run"] as! String, "--json")
        let run = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        #expect((run["run"] as? [String: Any])?["status"] as? String == "finished")
        #expect(((run["latest_metrics"] as? [String: Any])?.keys.contains("losses/approx_kl")) == true)
        #expect(((run["checkpoint_steps"] as? [Int])?.isEmpty) == false)
    }

    /// `--discount-weighting theorem` reaches the loss (γ^t weights change the last update's policy loss from
    /// the same seed's unweighted one); an unknown weighting is a usage error.
    @Test func reinforceDiscountWeightingReachesTheLoss() throws {
        let cli = CommandRunner()
        func lastPolicyLoss(_ weighting: String) throws -> Double {
            let result = try cli.run(
                "train", "reinforce", "--env", "CartPole-v1", "--total-steps", "400", "--eval-episodes", "1",
                "--seed", "5", "--discount-weighting", weighting, "--name", "w-\(weighting)", "--json")
            #expect(result.status == 0, "\(result.stderr)")
            let show = try cli.run("runs", "show", "w-\(weighting)", "--json")
            let run = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
            let latest = run?["latest_metrics"] as? [String: Any]
            return try #require(latest?["losses/policy_loss"] as? Double)
        }
        let unweighted = try lastPolicyLoss("none")
        let theorem = try lastPolicyLoss("theorem")
        #expect(unweighted.isFinite && theorem.isFinite)
        #expect(abs(unweighted - theorem) > 1e-6, "γ^t weights left the loss unchanged: \(unweighted)")
        #expect(try cli.run("train", "reinforce", "--env", "CartPole-v1", "--discount-weighting", "gamma").status == 64)
    }

    /// `--eval-interval N` logs the greedy evaluation every N updates (and at the end); an interval with
    /// no evaluation episodes, or a negative one, is a usage error.
    @Test func controlEvalIntervalLogsEvaluationsDuringTraining() throws {
        let cli = CommandRunner()
        let result = try cli.run(
            "train", "a2c", "--env", "CartPole-v1", "--total-steps", "1280", "--eval-episodes", "2",
            "--eval-interval", "4", "--name", "periodic", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let export = try cli.run("runs", "export", "periodic", "--format", "csv")
        #expect(export.status == 0, "\(export.stderr)")
        let fields: [[Substring]] = export.stdout.split(separator: "\n").map { $0.split(separator: ",") }
        let evaluationSteps: [String] = fields.filter { $0.count > 3 && $0[3] == "eval/return_mean" }
            .map { String($0[1]) }
        #expect(evaluationSteps == ["4", "8", "10"], "\(export.stdout)")
        for bad in [["--eval-interval", "3", "--eval-episodes", "0"], ["--eval-interval", "-1"]] {
            let refused = try cli.run(["train", "ppo", "--env", "CartPole-v1", "--name", "refused"] + bad)
            #expect(refused.status == 64, "\(bad): \(refused.stderr)")
        }
        #expect(try cli.run("runs", "show", "refused").status == 1)
    }

    @Test func badHyperparametersExit64BeforeAnyWork() throws {
        let cli = CommandRunner()
        #expect(try cli.run("train", "ppo", "--env", "CartPole-v1", "--num-minibatches", "7").status == 64)
        #expect(try cli.run("train", "ppo", "--env", "Nope-v0").status == 64)
        #expect(try cli.run("train", "a2c", "--env", "CartPole-v1", "--gamma", "2").status == 64)
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }

    /// Each control command shows only options its trainer uses: ac-lambda (plain SGD, one environment,
    /// no entropy term) refuses the Adam rate, the entropy coefficient and parallel environments.
    @Test func controlCommandsRefuseOptionsTheirTrainerDoesNotUse() throws {
        let cli = CommandRunner()
        for unused in [["--learning-rate", "0.1"], ["--ent-coef", "0.1"], ["--num-envs", "2"]] {
            let result = try cli.run(["train", "ac-lambda", "--env", "CartPole-v1"] + unused)
            #expect(result.status == 64, "\(unused): \(result.stderr)")
        }
        let help = try cli.run("train", "ac-lambda", "--help").stdout
        #expect(help.contains("--actor-step-size"))
        for unused in ["--learning-rate", "--ent-coef", "--num-envs"] { #expect(!help.contains(unused), "\(unused)") }
        #expect(!FileManager.default.fileExists(atPath: cli.path("policylab.sqlite")))
    }
}

@Suite struct DivergenceTests {
    /// A run whose loss becomes NaN stops, is marked failed with the step, and keeps the checkpoints it saved.
    @Test func aDivergingRunIsMarkedFailedWithItsStep() throws {
        let cli = CommandRunner()
        let result = try cli.run(
            "train", "sft", "--task", "sort", "--steps", "200", "--batch-size", "8", "--learning-rate", "1e30",
            "--eval-interval", "1", "--name", "boom")
        #expect(result.status == 1)
        #expect(result.stderr.contains("diverged at step"), "\(result.stderr)")
        let show = try cli.run("runs", "show", "boom", "--json")
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        let run = object["run"] as! [String: Any]
        #expect(run["status"] as? String == "failed")
        #expect((run["error"] as? String)?.contains("diverged at step") == true)
        #expect(((object["checkpoint_steps"] as? [Int])?.isEmpty) == false)
    }
}
