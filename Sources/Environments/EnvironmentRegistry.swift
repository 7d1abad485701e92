/// The environments PolicyLab ships, by Gymnasium id.
public enum EnvironmentRegistry {
    public static let ids = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]

    /// A fresh environment, or `EnvironmentError.unknownEnvironment`.
    public static func make(_ id: String) throws -> any Environment {
        switch id {
        case "CartPole-v1": CartPole()
        case "Acrobot-v1": Acrobot()
        case "MountainCar-v0": MountainCar()
        case "MountainCarContinuous-v0": MountainCarContinuous()
        case "Pendulum-v1": Pendulum()
        default: throw EnvironmentError.unknownEnvironment(id: id, known: ids)
        }
    }
}
