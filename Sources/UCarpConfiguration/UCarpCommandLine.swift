/// The ucarp 1.5.2 command line, and with `--config` the files it names: the one stage that
/// turns them into ``Settings`` and the warnings to log at start-up, or the error that stops it.
///
/// The flow goes one way: the arguments are parsed with ``UCarpOption``'s table, the files
/// (``ConfigurationOptions``) give options of their own, a ``SettingsBuilder`` takes the files'
/// options and then the command line's, and its settings are checked against the system
/// (``Environment``).
public enum UCarpCommandLine {
    public enum Command: Equatable, Sendable {
        case run(Settings, warnings: [StartupWarning])
        case help
        case version
        /// `--cleanup`: instead of running, release the address of the instance these settings
        /// describe if its state file says it died holding it (systemd's `ExecStopPost=`).
        case cleanUp(Settings)
        /// `--status` or `--maintenance`: about the host's instances, not one of them.
        case host(HostCommand)
        /// `--reload`: ask the running instance these options name (or every one) to reload.
        case reload(ReloadTarget)
    }

    /// What the stage asks of the system, so that tests can answer instead.
    public struct Environment {
        /// The bytes of a `--passfile`, or a ``SettingsError/passfileUnreadable(path:reason:)``.
        public var read: (String) throws(SettingsError) -> [UInt8]
        /// The bytes of a configuration file or a default script, nil if it does not exist.
        public var readIfPresent: (String) throws(SettingsError) -> [UInt8]?
        /// A file's permission bits (`stat`'s `st_mode`), nil if unknown.
        public var permissions: (String) -> UInt32?
        /// Whether a network interface of this name exists.
        public var interfaceExists: (String) -> Bool
        /// Where relative paths start (`getcwd`); nil leaves them relative.
        public var currentDirectory: String?
        /// Why a file (an etcd certificate or key) cannot be read, nil if it can.
        public var unreadable: (String) -> String?

        public init(
            read: @escaping (String) throws(SettingsError) -> [UInt8],
            readIfPresent: @escaping (String) throws(SettingsError) -> [UInt8]? = { _ throws(SettingsError) in nil },
            permissions: @escaping (String) -> UInt32? = { _ in nil },
            interfaceExists: @escaping (String) -> Bool = { _ in true },
            currentDirectory: String? = nil, unreadable: @escaping (String) -> String? = { _ in nil }
        ) {
            self.unreadable = unreadable
            self.read = read
            self.readIfPresent = readIfPresent
            self.permissions = permissions
            self.interfaceExists = interfaceExists
            self.currentDirectory = currentDirectory
        }
    }

    /// Parses and validates `arguments` (without the program name), with no configuration
    /// files, every interface existing and relative paths left relative.
    ///
    /// - Parameter readPassfile: returns the bytes of a file, or throws a message saying why not.
    public static func parse(
        _ arguments: [String], readPassfile: @escaping (String) throws(SettingsError) -> [UInt8]
    ) throws(SettingsError) -> Command {
        try parse(arguments, environment: Environment(read: readPassfile))
    }

    /// Parses and validates `arguments` (without the program name) and the files they name.
    public static func parse(_ arguments: [String], environment: Environment) throws(SettingsError) -> Command {
        try parse(arguments, bytes: nil, environment: environment)
    }

    /// Parses and validates the arguments as the process received them, bytes that need not be
    /// UTF-8: `--pass` keeps its value's bytes as given, as ucarp hands argv to the HMAC (a
    /// Latin-1 password must give ucarp's key); every other argument is read as UTF-8.
    public static func parse(bytes arguments: [[UInt8]], environment: Environment) throws(SettingsError) -> Command {
        try parse(arguments.map { String(decoding: $0, as: UTF8.self) }, bytes: arguments, environment: environment)
    }

    /// `arguments`, and when known their bytes as given (`arguments` being them read as UTF-8).
    static func parse(
        _ arguments: [String], bytes: [[UInt8]]?, environment: Environment
    ) throws(SettingsError) -> Command {
        // As ucarp: no arguments at all shows the usage.
        if arguments.isEmpty { return .help }
        let parsed = try UCarpOption.parse(arguments)
        if parsed.options.contains(where: { $0.id == .help }) { return .help }
        if parsed.options.contains(where: { $0.id == .version }) { return .version }
        if let stray = parsed.operands.first { throw .strayArgument(stray) }
        if parsed.options.contains(where: { $0.id == .reload || $0.id == .all }) {
            return .reload(try ReloadTarget(parsed, environment: environment))
        }
        if let host = try HostCommand.parse(parsed, environment: environment) {
            return .host(host)
        }

        var builder = SettingsBuilder()
        var warnings: [StartupWarning] = []
        var secretHolders: [String] = []
        // Files first, so that options given beside --config win over them.
        if let path = parsed.options.last(where: { $0.id == .config })?.argument {
            let configuration = try ConfigurationOptions.load(
                path: absolute(path, in: environment), readIfPresent: environment.readIfPresent)
            warnings = configuration.warnings
            secretHolders = configuration.secretHolders
            for option in configuration.options {
                do {
                    try builder.apply(option.id, option.value, bytes: option.bytes, readPassfile: environment.read)
                } catch {
                    throw .inConfiguration(origin: option.origin, error)
                }
            }
        }
        builder.beginCommandLine()
        for (index, (id, argument)) in parsed.options.enumerated() where id != .config {
            let given = id == .pass ? bytes.flatMap { valueBytes(of: index, in: parsed, arguments: $0) } : nil
            try builder.apply(id, argument ?? "", bytes: given, readPassfile: environment.read)
        }
        var settings = try builder.settings()
        // --daemonize moves to /: files written later must not depend on where we started.
        settings.pidFile = settings.pidFile.map { absolute($0, in: environment) }
        settings.stateFile = settings.stateFile.map { absolute($0, in: environment) }
        settings.metricsFile = settings.metricsFile.map { absolute($0, in: environment) }
        settings.hostState = absolute(settings.hostState, in: environment)
        if var etcd = settings.etcd {
            try checkFiles(of: &etcd, in: environment)
            settings.etcd = etcd
        }
        if let name = settings.interface, !environment.interfaceExists(name) { throw .noSuchInterface(name) }
        if settings.etcd?.sendsPasswordInClear == true { warnings.append(.etcdPasswordInClear) }

        if let path = settings.passfile, let mode = environment.permissions(path), mode & 0o044 != 0 {
            warnings.insert(.passfileReadable(path: path, mode: mode & 0o777), at: 0)
        }
        // Every other file holding a secret: the files' PASSWORD=, the etcd password and key.
        let secretFiles =
            secretHolders.map { ($0, "configuration file (it holds PASSWORD=)") }
            + [(settings.etcd?.passfile, "--etcd-passfile"), (settings.etcd?.keyFile, "--etcd-key")].compactMap {
                path, what in path.map { ($0, what) }
            }
        for (path, what) in secretFiles {
            if let mode = environment.permissions(path), mode & 0o044 != 0 {
                warnings.append(.secretReadable(what: what, path: path, mode: mode & 0o777))
            }
        }
        if parsed.options.contains(where: { $0.id == .cleanup }) {
            guard settings.stateFile != nil else { throw .cleanupWithoutStateFile }
            return .cleanUp(settings)
        }
        if settings.upscript == nil { warnings.append(.noUpscript) }
        if settings.downscript == nil { warnings.append(.noDownscript) }
        return .run(settings, warnings: warnings)
    }

    /// The bytes of the value of `parsed.options[index]` as given in `arguments`: the parser
    /// located it by its UTF-8 offset, and what precedes a value (`--pass=`, `-p`) is ASCII, so
    /// the offset is the same in the bytes as given.
    static func valueBytes(
        of index: Int, in parsed: UCarpOption.Parsed, arguments: [[UInt8]]
    ) -> [UInt8]? {
        guard let location = parsed.valueLocations[index], arguments.indices.contains(location.argument) else {
            return nil
        }
        let argument = arguments[location.argument]
        guard location.offset <= argument.count else { return nil }
        return Array(argument[location.offset...])
    }

    /// The guard's certificate and key files, made absolute (libcurl reads them after
    /// `--daemonize`), must be readable now.
    static func checkFiles(of etcd: inout EtcdSettings, in environment: Environment) throws(SettingsError) {
        let files: [(String, WritableKeyPath<EtcdSettings, String?>)] = [
            ("--etcd-cacert", \.caFile), ("--etcd-cert", \.certificateFile), ("--etcd-key", \.keyFile),
        ]
        for (option, keyPath) in files {
            guard let path = etcd[keyPath: keyPath] else { continue }
            if let reason = environment.unreadable(path) {
                throw .etcdFileUnreadable(option: option, path: path, reason: reason)
            }
            etcd[keyPath: keyPath] = absolute(path, in: environment)
        }
        // OpenSSL would ask for an encrypted key's passphrase on the terminal, inside the poll
        // loop, at the first connection: refused at start-up instead. Its PEM header says so.
        if let path = etcd.keyFile, let start = try? environment.read(path),
            start.starts(with: Array("-----BEGIN ENCRYPTED PRIVATE KEY-----".utf8))
                || String(decoding: start.prefix(256), as: UTF8.self).contains("Proc-Type: 4,ENCRYPTED")
        {
            throw .etcdKeyEncrypted(path: path)
        }
    }

    /// `path` made absolute against the environment's current directory, if it has one.
    static func absolute(_ path: String, in environment: Environment) -> String {
        guard !path.hasPrefix("/"), let directory = environment.currentDirectory else { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Where the values of `--pass` stand in `arguments`, so that the caller can blank them out
    /// of its `argv` (and so of `ps` and `/proc/PID/cmdline`).
    public static func passwordLocations(in arguments: [String]) -> [(argument: Int, offset: Int)] {
        guard let parsed = try? UCarpOption.parser.parse(arguments) else { return [] }
        return parsed.options.indices.compactMap { index in
            parsed.options[index].id == .pass ? parsed.valueLocations[index] : nil
        }
    }
}
