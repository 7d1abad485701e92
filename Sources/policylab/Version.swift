import ArgumentParser

extension PolicyLab {
    /// Prints the PolicyLab version.
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the PolicyLab version.")

        func run() throws {
            print("policylab 0.1.0")
        }
    }
}
