/// `ucarp --reload`: which running instance to ask, by the options it was started with.
///
/// Any one of `--config`, `--pidfile`, `--statefile` identifies an instance; given several,
/// the instance must have been started with all of them. `--all` names every instance of the
/// host. Paths are made absolute as the instance made its own at start-up, so that the same
/// relative path given from the same directory names it.
public struct ReloadTarget: Equatable, Sendable {
    /// Every SwiftCARP instance running on this host.
    public var all: Bool
    public var config: String?
    public var pidFile: String?
    public var stateFile: String?

    public init(all: Bool = false, config: String? = nil, pidFile: String? = nil, stateFile: String? = nil) {
        self.all = all
        self.config = config
        self.pidFile = pidFile
        self.stateFile = stateFile
    }

    /// The options that may come with `--reload`.
    static let identifying: Set<UCarpOption> = [.config, .pidfile, .statefile]

    init(_ parsed: UCarpOption.Parsed, environment: UCarpCommandLine.Environment) throws(SettingsError) {
        let ids = parsed.options.map(\.id)
        guard ids.contains(.reload) else { throw .reloadUsage("--all goes with --reload only") }
        if let other = ids.first(where: { $0 != .reload && $0 != .all && !Self.identifying.contains($0) }) {
            throw .reloadUsage("--reload takes no \(other.longOption)")
        }
        func value(_ id: UCarpOption) throws(SettingsError) -> String? {
            let values = parsed.options.filter { $0.id == id }.compactMap(\.argument)
            guard let last = values.last else { return nil }
            guard !last.isEmpty else { throw .reloadUsage("\(id.longOption) must not be empty") }
            return UCarpCommandLine.absolute(last, in: environment)
        }
        all = ids.contains(.all)
        config = try value(.config)
        pidFile = try value(.pidfile)
        stateFile = try value(.statefile)
        if all && !(config == nil && pidFile == nil && stateFile == nil) {
            throw .reloadUsage("--reload --all names every instance: it takes no --config, --pidfile or --statefile")
        }
        if !all && config == nil && pidFile == nil && stateFile == nil {
            throw .reloadUsage("--reload needs the instance's --config, --pidfile or --statefile, or --all")
        }
    }

    /// Whether an instance identified by these paths is the one named (every path given matches).
    public func matches(_ identity: InstanceIdentity) -> Bool {
        if all { return true }
        return (config == nil || config == identity.config) && (pidFile == nil || pidFile == identity.pidFile)
            && (stateFile == nil || stateFile == identity.stateFile)
    }

    /// The options given, as the messages name them: `--config=/etc/ucarp/vip-001.conf`.
    public var description: String {
        if all { return "--all" }
        return [("--config", config), ("--pidfile", pidFile), ("--statefile", stateFile)]
            .compactMap { option, value in value.map { "\(option)=\($0)" } }.joined(separator: " ")
    }
}

/// What a running instance was started with that `--reload` finds it by: absolute paths.
public struct InstanceIdentity: Equatable, Sendable {
    public var config: String?
    public var pidFile: String?
    public var stateFile: String?

    public init(config: String?, pidFile: String?, stateFile: String?) {
        self.config = config
        self.pidFile = pidFile
        self.stateFile = stateFile
    }

    /// The identity of the instance `arguments` start, `settings` being what they parse to.
    public static func of(
        arguments: [String], settings: Settings, currentDirectory: String?
    ) -> InstanceIdentity {
        let config = (try? UCarpOption.parse(arguments))?.options.last(where: { $0.id == .config })?.argument
        let environment = UCarpCommandLine.Environment(
            read: { _ throws(SettingsError) in [] }, currentDirectory: currentDirectory)
        return InstanceIdentity(
            config: config.map { UCarpCommandLine.absolute($0, in: environment) }, pidFile: settings.pidFile,
            stateFile: settings.stateFile)
    }

    /// As text lines for the control socket's `identify` answer: `config=PATH` and so on, a
    /// key absent when the instance has no such file. Paths hold no newline (refused here).
    public var lines: String {
        [("config", config), ("pidfile", pidFile), ("statefile", stateFile)]
            .compactMap { key, value in value.map { "\(key)=\($0)\n" } }.joined()
    }

    /// Reads ``lines`` back; unknown keys are skipped (a newer instance may say more).
    public init(lines: String) {
        var identity = InstanceIdentity(config: nil, pidFile: nil, stateFile: nil)
        for line in lines.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = String(line[line.index(after: equals)...])
            switch line[..<equals] {
            case "config": identity.config = value
            case "pidfile": identity.pidFile = value
            case "statefile": identity.stateFile = value
            default: break
            }
        }
        self = identity
    }
}
