import Environments

/// Environment ids for argument validation.
enum EnvironmentIDs {
    static let all = EnvironmentRegistry.ids
}
