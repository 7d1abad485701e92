/// A runtime failure of a command, printed as one line (`Error: cause — next step`), exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
