import ArgumentParser
import Foundation

/// `--config FILE` on every `train` command: the run's settings from a JSON file with the keys of a run's
/// stored config (`policylab runs show RUN --json`'s `config_json`, or that whole output), so that a run
/// can be repeated from its own record; flags given on the command line override the file.
///
/// How: the file is turned back into the command's own flags (`ConfigFileFlags`), and the command is parsed
/// again from those flags followed by the ones the user gave (ArgumentParser keeps the last value of an
/// option), so the run goes through the command's usual checks, defaults and recording. A key the config
/// does not have, a value of the wrong type, or one no flag of the command can give, is refused as one line
/// naming the key and the file before anything is written.
struct ConfigFileOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A JSON file of a run's config (the keys of `runs show RUN --json`'s config_json, or that whole "
                + "output); flags given here override it.", valueName: "file"))
    var config: String?
}

/// A train command that `--config FILE` can make: its options turn into a config by `makeRunConfig`.
protocol ConfigurableTrainCommand: ParsableCommand {
    associatedtype RunConfig: Encodable
    var configFile: ConfigFileOptions { get }
    /// The config the command's options describe (no I/O: `--config` calls it on trial parses).
    func makeRunConfig() throws -> RunConfig
    /// Keys the command takes from its inputs (the dataset's task), not from flags: a file's value is ignored.
    static var keysFromInputs: Set<String> { get }
    /// The config as the run records it (JSON): `makeRunConfig()`'s, plus what the command adds beside it.
    func recordedRunConfigJSON() throws -> String
    /// Keys the recorded config may have beside the config's own (name → Swift type), such as `reward`.
    static var recordedExtraKeys: [String: String] { get }
}

extension ConfigurableTrainCommand {
    static var keysFromInputs: Set<String> { [] }
    func recordedRunConfigJSON() throws -> String { configJSON(try makeRunConfig()) }
    static var recordedExtraKeys: [String: String] { [:] }
}

extension ConfigurableTrainCommand {
    /// Call first in `validate()`: true when the command's own checks are done elsewhere, because a trial
    /// parse of `--config` is under way (its flags are incomplete), or because the command made from the
    /// file and the flags has passed them.
    func validateConfigFile() throws -> Bool {
        if ConfigFileTrial.active { return true }
        return try commandFromConfigFile() != nil
    }

    /// The command made from `--config FILE` and the flags given (checked by its own `validate()`), or nil
    /// without `--config`. Its `run()` is the run.
    func commandFromConfigFile() throws -> Self? {
        guard let path = configFile.config else { return nil }
        let userArguments = try Self.argumentsGivenAfterTheCommand()
        let fileFlags = try ConfigFileFlags(path: path, command: Self.self, userArguments: userArguments)
        let flags = try fileFlags.flags()
        let tokens = flags.flatMap(\.tokens)
        do {
            return try Self.parse(fileFlags.required + tokens + userArguments)
        } catch {
            // A refusal of the file's flags alone is the file's: name the key whose flag it is (the one
            // without which the parse passes, else the one without which it fails for another reason).
            if (try? Self.parse(fileFlags.required + tokens)) == nil {
                let message = Self.message(for: error)
                func outcome(without key: String) -> String? {
                    let rest = fileFlags.required + flags.filter { $0.key != key }.flatMap(\.tokens)
                    do { _ = try Self.parse(rest); return nil } catch { return Self.message(for: error) }
                }
                let outcomes = flags.map { (flag: $0, outcome: outcome(without: $0.key)) }
                let culprit = (outcomes.first { $0.outcome == nil } ?? outcomes.first { $0.outcome != message })?.flag
                let key = culprit.map { "key '\($0.key)' = \(fileFlags.file[$0.key] ?? .null): " } ?? ""
                throw CLIError("config file \(path): \(key)\(Self.message(for: error)) — fix it in the file")
            }
            throw ValidationError(Self.message(for: error))
        }
    }

    /// The user's arguments after `train NAME`, without `--config FILE`.
    static func argumentsGivenAfterTheCommand() throws -> [String] {
        let arguments = CommandLine.arguments
        let name = configuration.commandName ?? ""
        guard let index = (0..<max(arguments.count - 1, 0)).first(where: {
            arguments[$0] == "train" && arguments[$0 + 1] == name
        }) else {
            throw ValidationError("--config works on `policylab train \(name)` given on the command line")
        }
        var rest = Array(arguments[(index + 2)...])
        while let position = rest.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) {
            rest.removeSubrange(position..<min(rest.count, rest[position] == "--config" ? position + 2 : position + 1))
        }
        return rest
    }

    /// ArgumentParser's one-line message of a refused parse (without its "Error: ").
    static func message(for error: Error) -> String {
        let line = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        return line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line
    }
}

/// The flags of a train command that give a config file's values: found by trial parses of the command
/// (the command's checks skipped), one key at a time, until the command's config equals the file on every
/// key the file gives.
struct ConfigFileFlags<Command: ConfigurableTrainCommand> {
    let path: String
    let file: [String: JSONValue]
    /// Every key path of the command's config (nested structs as `outer.inner`), with its Swift type's name.
    let keys: [String: String]
    let options: [CommandOption]
    /// The user's values of the command's required options (a dataset, a reference run): every trial has them.
    let required: [String]

    init(path: String, command: Command.Type, userArguments: [String]) throws {
        self.path = path
        options = CommandOption.options(of: Command.self)
        required = CommandOption.requiredArguments(of: Command.self, in: userArguments)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the config file \(path) — give the path of a JSON file")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw CLIError(
                "config file \(path) is not valid JSON — save a run's config from `runs show RUN --json`")
        }
        guard case .object(var object) = value else {
            throw CLIError(
                "config file \(path) is not a JSON object — give the config of `runs show RUN --json`")
        }
        // The whole output of `runs show RUN --json` holds the config as a string: use that.
        if case .object(let run)? = object["run"], case .string(let stored)? = run["config_json"],
            case .object(let config)? = try? JSONDecoder().decode(JSONValue.self, from: Data(stored.utf8))
        {
            object = config
        }
        file = JSONValue.leaves(of: object)
        guard let defaults = try Self.trialConfig(arguments: required) else {
            throw ValidationError("give the options `train \(Command.configuration.commandName ?? "")` requires")
        }
        // The reflected stored properties (optional ones included) and whatever else the config writes.
        var keys = ConfigKeys.typeNames(of: defaults.value).merging(Command.recordedExtraKeys) { own, _ in own }
        for (key, value) in defaults.leaves where keys[key] == nil { keys[key] = value.kind }
        self.keys = keys
    }

    /// The flags that give the file's values, refusing a key the config lacks, a value of the wrong type
    /// and a value no flag gives.
    func flags() throws -> [(key: String, tokens: [String])] {
        for (key, value) in file.sorted(by: { $0.key < $1.key }) {
            guard let typeName = keys[key] else {
                let known = keys.keys.sorted().joined(separator: ", ")
                throw CLIError("config file \(path): unknown key '\(key)' — the config's keys are \(known)")
            }
            if let expected = JSONValue.kind(ofSwiftType: typeName), value != .null, value.kind != expected {
                throw CLIError(
                    "config file \(path): key '\(key)' must be a JSON \(expected) (\(typeName)), "
                        + "not \(value.kind) \(value)")
            }
        }
        var flags: [(key: String, tokens: [String])] = []
        for _ in 0...(2 * file.count) {
            guard let current = try Self.trialConfig(arguments: required + flags.flatMap(\.tokens)) else { break }
            let differing = file.keys.sorted().filter { key in
                !Command.keysFromInputs.contains(key) && current.leaves[key] ?? .null != file[key]
            }
            guard !differing.isEmpty else { return flags }
            guard let flag = try firstFlag(for: differing, after: flags.flatMap(\.tokens)) else {
                let key = differing[0]
                throw CLIError(
                    "config file \(path): key '\(key)' = \(file[key] ?? .null) cannot be given to "
                        + "`train \(Command.configuration.commandName ?? "")` (no flag sets it to that value) — "
                        + "change it or leave it out")
            }
            flags.append(flag)
        }
        throw CLIError("config file \(path): its keys contradict each other — leave out the keys you did not change")
    }

    /// The first differing key some flag sets to the file's value, with that flag's tokens.
    private func firstFlag(for differing: [String], after flags: [String]) throws -> (key: String, tokens: [String])? {
        for key in differing {
            guard let wanted = file[key] else { continue }
            for option in options {
                for tokens in option.candidates(for: wanted) {
                    guard let trial = try Self.trialConfig(arguments: required + flags + tokens) else { continue }
                    if trial.leaves[key] ?? .null == wanted { return (key, tokens) }
                }
            }
        }
        return nil
    }

    /// The config a trial parse of `arguments` makes (the command's checks skipped), or nil when
    /// ArgumentParser refuses them or the command cannot make a config of them.
    static func trialConfig(arguments: [String]) throws -> (value: Command.RunConfig, leaves: [String: JSONValue])? {
        ConfigFileTrial.active = true
        defer { ConfigFileTrial.active = false }
        guard let command = try? Command.parse(arguments), let config = try? command.makeRunConfig(),
            let recorded = try? command.recordedRunConfigJSON()
        else { return nil }
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(recorded.utf8))
        guard case .object(let object) = value else { return nil }
        return (config, JSONValue.leaves(of: object))
    }
}

/// Whether a trial parse of `--config` is under way (one flag for every command type).
enum ConfigFileTrial {
    nonisolated(unsafe) static var active = false
}

/// One long option or flag of a command, from ArgumentParser's description of it.
struct CommandOption {
    let name: String
    let takesValue: Bool

    /// The flags that could give `value`: `--name value` (arrays comma-separated), or the flag alone.
    func candidates(for value: JSONValue) -> [[String]] {
        if takesValue {
            guard let text = value.argumentText else { return [] }
            return [["--\(name)", text]]
        }
        return [["--\(name)"]]
    }

    /// The tokens of `arguments` that give the command's required options (name and value).
    static func requiredArguments(of command: any ParsableCommand.Type, in arguments: [String]) -> [String] {
        let names = Set(describedArguments(of: command).filter { $0["isOptional"] as? Bool == false }
            .flatMap { longNames($0) })
        var tokens: [String] = []
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            let name = token.hasPrefix("--") ? String(token.dropFirst(2).prefix { $0 != "=" }) : ""
            if names.contains(name) {
                if token.contains("=") {
                    tokens.append(token)
                } else if index + 1 < arguments.count {
                    tokens += [token, arguments[index + 1]]
                    index += 1
                }
            }
            index += 1
        }
        return tokens
    }

    /// ArgumentParser's description of each argument of a command (its `--experimental-dump-help` JSON).
    static func describedArguments(of command: any ParsableCommand.Type) -> [[String: Any]] {
        guard let data = command._dumpHelp().data(using: .utf8),
            let tool = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let description = tool["command"] as? [String: Any]
        else { return [] }
        return description["arguments"] as? [[String: Any]] ?? []
    }

    static func longNames(_ argument: [String: Any]) -> [String] {
        (argument["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }
            .compactMap { $0["name"] as? String }
    }

    /// The long options and flags a command shows, except those that are not part of a config
    /// (the database, JSON output, the run's name, `--config` itself, help).
    static func options(of command: any ParsableCommand.Type) -> [CommandOption] {
        let excluded: Set = ["help", "config", "db", "json", "name", "max-seconds", "resume", "version"]
        var options: [CommandOption] = []
        for argument in describedArguments(of: command) where argument["shouldDisplay"] as? Bool ?? true {
            let kind = argument["kind"] as? String
            guard kind == "option" || kind == "flag" else { continue }
            for name in longNames(argument) where !excluded.contains(name) {
                options.append(CommandOption(name: name, takesValue: kind == "option"))
            }
        }
        return options
    }
}

/// The key paths of a config and the Swift type name of each (through nested structs), by reflection: the
/// stored properties are the keys the synthesised `Codable` writes, optional ones included.
enum ConfigKeys {
    static func typeNames(of value: Any, prefix: String = "") -> [String: String] {
        var keys: [String: String] = [:]
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let path = prefix + label
            let unwrapped = Mirror(reflecting: child.value)
            if unwrapped.displayStyle == .struct, !unwrapped.children.isEmpty {
                keys.merge(typeNames(of: child.value, prefix: path + ".")) { first, _ in first }
            } else {
                keys[path] = String(describing: type(of: child.value))
            }
        }
        return keys
    }
}

/// A JSON value with its kind kept (a number is not a boolean), for comparing a file with a config.
indirect enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), integer(Int64), unsigned(UInt64), number(Double), string(String)
    case array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .integer(value); return }
        if let value = try? container.decode(UInt64.self) { self = .unsigned(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.unsigned(let x), .unsigned(let y)): x == y
        default:
            if let x = a.doubleValue, let y = b.doubleValue { x == y } else { false }
        }
    }

    var doubleValue: Double? {
        switch self {
        case .integer(let x): Double(x)
        case .unsigned(let x): Double(x)
        case .number(let x): x
        default: nil
        }
    }

    /// "number", "string", "boolean", "array", "object" or "null", for messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .unsigned, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The JSON kind a config property of this Swift type is written as, when it is a plain one.
    static func kind(ofSwiftType name: String) -> String? {
        let base = name.hasPrefix("Optional<") ? String(name.dropFirst(9).dropLast()) : name
        switch base {
        case "Int", "UInt64", "Double", "Float": return "number"
        case "String": return "string"
        case "Bool": return "boolean"
        default: return base.hasPrefix("Array<") ? "array" : nil
        }
    }

    /// The value as a command-line argument: numbers in Swift's shortest exact form, arrays joined by commas.
    var argumentText: String? {
        switch self {
        case .null, .object: nil
        case .bool(let x): "\(x)"
        case .integer(let x): "\(x)"
        case .unsigned(let x): "\(x)"
        case .number(let x): x == x.rounded() && abs(x) < 1e15 ? "\(Int64(x))" : "\(x)"
        case .string(let x): x
        case .array(let x):
            x.map { $0.argumentText ?? "" }.joined(separator: ",")
        }
    }

    var description: String {
        switch self {
        case .string(let x): "\"\(x)\""
        case .array(let x): "[" + x.map(\.description).joined(separator: ", ") + "]"
        case .object: "{…}"
        default: argumentText ?? "null"
        }
    }

    /// Every leaf of an object by its key path (`outer.inner`); arrays are leaves.
    static func leaves(of object: [String: JSONValue], prefix: String = "") -> [String: JSONValue] {
        var leaves: [String: JSONValue] = [:]
        for (key, value) in object {
            if case .object(let inner) = value {
                leaves.merge(Self.leaves(of: inner, prefix: prefix + key + ".")) { first, _ in first }
            } else {
                leaves[prefix + key] = value
            }
        }
        return leaves
    }
}
