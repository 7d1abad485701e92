import ArgumentParser

extension PolicyLab {
    /// `policylab train …`: one subcommand per algorithm.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a policy; every run is recorded in the database (config, metrics, samples, checkpoints).",
            subcommands: [
                TrainPPO.self, TrainReinforce.self, TrainA2C.self, TrainActorCriticLambda.self, TrainOffPolicy.self,
                TrainSFT.self, TrainDPO.self, TrainKTO.self, TrainRewardModel.self, TrainGRPO.self, TrainRLOO.self,
                TrainTokenPPO.self, TrainOnlineDPO.self, TrainAverageRewardActorCritic.self,
            ]
        )
    }
}
