/// The environments PolicyLab ships, by id: Gymnasium's episodic classic-control tasks, and the continuing
/// tasks solved for the average reward.
public enum EnvironmentRegistry {
    /// The episodic environments (every episodic trainer takes these).
    public static let ids = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]
    /// The continuing environments (`train ac-average-reward`).
    public static let continuingIDs = [AccessControlQueuing.identifier]
    /// Every environment.
    public static var allIDs: [String] { ids + continuingIDs }

    /// A fresh environment, or `EnvironmentError.unknownEnvironment`.
    public static func make(_ id: String) throws -> any Environment {
        switch id {
        case "CartPole-v1": CartPole()
        case "Acrobot-v1": Acrobot()
        case "MountainCar-v0": MountainCar()
        case "MountainCarContinuous-v0": MountainCarContinuous()
        case "Pendulum-v1": Pendulum()
        case AccessControlQueuing.identifier: AccessControlQueuing()
        default: throw EnvironmentError.unknownEnvironment(id: id, known: allIDs)
        }
    }
}
