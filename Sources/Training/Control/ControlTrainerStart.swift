import Environments
import NN
import Policies
import Randomness

/// How every batch control trainer starts (PPO, REINFORCE, A2C, off-policy actor-critic), in the order
/// its seeded figures depend on: the run's generator from the seed, E environments seeded from its first
/// split, CleanRL's actor-critic for the environment drawn from it next, and Adam without weight decay.
struct ControlTrainerStart {
    var generator: SeededGenerator
    let environments: VectorEnvironment
    let policy: MLPActorCritic
    let optimizer: AdamW

    init(
        environmentID: String, seed: UInt64, environments count: Int, hiddenSizes: [Int], learningRate: Double,
        adamEpsilon: Float = 1e-5
    ) throws {
        generator = SeededGenerator(seed: seed)
        var environmentGenerator = generator.split()
        environments = try VectorEnvironment(id: environmentID, count: count, generator: &environmentGenerator)
        policy = try MLPActorCritic.make(environmentID: environmentID, hiddenSizes: hiddenSizes, generator: &generator)
        optimizer = AdamW(
            parameters: policy.parameters, config: .init(learningRate: Float(learningRate), epsilon: adamEpsilon),
            decayMask: policy.parameters.map { _ in false })
    }
}
