// Tasks by name, with their default configurations (what `--task NAME` selects).

/// The built-in tasks.
public enum TaskRegistry {
    /// Registered names, in the order help texts list them.
    public static let names = ["sort", "reverse", "copy", "copy-letters", "addition", "digitsum"]

    /// The task called `name` with its default configuration.
    /// Throws `TaskError.unknownTask` listing the registered names.
    public static func task(named name: String) throws(TaskError) -> any SequenceTask {
        switch name {
        case "sort": return try SortTask()
        case "reverse": return try TransformTask(.reverse)
        case "copy": return try TransformTask(.copy)
        case "copy-letters": return try TransformTask(.copy, config: .init(alphabet: .letters))
        case "addition": return try AdditionTask()
        case "digitsum": return try DigitSumTask()
        default: throw .unknownTask(name, available: names)
        }
    }
}
