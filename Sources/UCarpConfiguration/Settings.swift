import CARPCore

/// Everything one instance runs with, validated: the ucarp command line made typed.
public struct Settings: Equatable, Sendable {
    /// nil: ucarp picks the first capture device, as `pcap_lookupdev` did.
    public var interface: String?
    public var sourceAddress: IPv4Address
    public var group: IPv4Address = CARPWire.defaultGroup
    public var vhid: UInt8
    public var password: [UInt8]
    /// Where the password came from, when it was `--passfile`.
    public var passfile: String?
    public var preempt = false
    public var neutral = false
    public var virtualAddress: IPv4Address
    /// The address exactly as given, which ucarp passes to the scripts.
    public var virtualAddressArgument: String
    public var advbase: UInt8 = 1
    public var advskew: UInt8 = 0
    public var upscript: String?
    public var downscript: String?
    public var deadRatio: UInt32 = 3
    public var debug = false
    public var shutdown = false
    /// nil: `--facility=none`, no syslog at all.
    public var facility: SyslogFacility? = .daemon
    public var daemonize = false
    public var ignoreInterfaceState = false
    public var noMulticast = false
    /// `--peer`: unicast advertisements to these hosts instead of multicast.
    public var peers: [IPv4Address] = []
    /// `--check`: a command run with `/bin/sh -c`; exit status 0 means healthy.
    public var check: String?
    public var checkInterval: MonotonicDuration = .seconds(1)
    public var checkFall = 2
    public var checkRise = 2
    /// nil: the interval.
    public var checkTimeout: MonotonicDuration?
    public var xparam: String?
    /// `--pidfile`: written after daemonizing, locked while running, removed at exit.
    public var pidFile: String?
    /// `--statefile`: replaced atomically on every state change.
    public var stateFile: String?
    /// `--script-timeout`: a script still running after this is killed; nil never.
    public var scriptTimeout: MonotonicDuration? = .seconds(60)
    /// Things worth saying at start-up that do not stop it (unknown configuration variables...).
    public var warnings: [String] = []

    public init(
        interface: String?, sourceAddress: IPv4Address, vhid: UInt8, password: [UInt8],
        virtualAddress: IPv4Address, virtualAddressArgument: String? = nil
    ) {
        self.interface = interface
        self.sourceAddress = sourceAddress
        self.vhid = vhid
        self.password = password
        self.virtualAddress = virtualAddress
        self.virtualAddressArgument = virtualAddressArgument ?? virtualAddress.description
    }

    public static let vhidRange: ClosedRange<UInt32> = 1...255
    public static let advbaseRange: ClosedRange<UInt32> = 0...255
    public static let advskewRange: ClosedRange<UInt32> = 0...255
    public static let deadRatioRange: ClosedRange<UInt32> = 1...255
    public static let checkCountRange: ClosedRange<UInt32> = 1...1000
}

/// A syslog facility by name, as `--facility` takes it (`syslog.h`'s `facilitynames`).
public struct SyslogFacility: Equatable, Hashable, Sendable {
    public var name: String
    /// The facility code, already shifted (`LOG_DAEMON` is `3 << 3`).
    public var code: Int32

    public static let daemon = SyslogFacility(name: "daemon", code: 3 << 3)

    public static let all: [SyslogFacility] = {
        let named: [(String, Int32)] = [
            ("kern", 0), ("user", 1), ("mail", 2), ("daemon", 3), ("auth", 4), ("security", 4), ("syslog", 5),
            ("lpr", 6), ("news", 7), ("uucp", 8), ("cron", 9), ("authpriv", 10), ("ftp", 11),
        ]
        return named.map { SyslogFacility(name: $0.0, code: $0.1 << 3) }
            + (0...7).map { SyslogFacility(name: "local\($0)", code: (16 + Int32($0)) << 3) }
    }()

    /// Case-insensitive in ASCII, as ucarp's `strcasecmp` lookup.
    public init?(named name: String) {
        let lowercased = name.asciiLowercased()
        guard let found = Self.all.first(where: { $0.name == lowercased }) else { return nil }
        self = found
    }

    init(name: String, code: Int32) {
        self.name = name
        self.code = code
    }
}

/// Why a command line (or configuration) cannot run. Each message names the value and what is
/// allowed. Passwords are never echoed.
public indirect enum SettingsError: Error, Equatable, CustomStringConvertible {
    case syntax(String)
    /// An error in a value that came from a configuration file: `origin` is `path:line`.
    case inConfiguration(origin: String, SettingsError)
    case configuration(ConfigurationError)
    case configurationUnreadable(path: String, reason: String)
    case notANumber(option: String, value: String, range: ClosedRange<UInt32>)
    case notASeconds(option: String, value: String, maximum: UInt32)
    case outOfRange(option: String, value: String, range: ClosedRange<UInt32>)
    case invalidAddress(option: String, value: String)
    case notMulticast(value: String)
    case unspecifiedAddress(option: String)
    case unknownFacility(String)
    case emptyValue(option: String)
    case passwordTooLong(length: Int)
    case passfileUnreadable(path: String, reason: String)
    case passfileEmpty(path: String)
    case missing(option: String, what: String)
    case bothZero
    case strayArgument(String)
    case noSuchInterface(String)
    case peerNotUnicast(value: String)
    case peerIsSelf(value: String)

    /// Whether the command line itself is at fault (worth pointing to --help).
    public var isCommandLineError: Bool {
        switch self {
        case .inConfiguration, .configuration, .configurationUnreadable, .passfileUnreadable, .passfileEmpty,
            .noSuchInterface:
            false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .syntax(let message): message
        case .inConfiguration(let origin, let error): "\(origin): \(error.description)"
        case .configuration(let error): error.description
        case .configurationUnreadable(let path, let reason): "cannot read configuration file '\(path)': \(reason)"
        case .notANumber(let option, let value, let range):
            "invalid \(option) '\(value)': expected a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .notASeconds(let option, let value, let maximum):
            "invalid \(option) '\(value)': expected seconds from 0 to \(maximum), fractions allowed (0.5)"
        case .outOfRange(let option, let value, let range):
            "\(option) '\(value)' is out of range: allowed are \(range.lowerBound) to \(range.upperBound)"
        case .invalidAddress(let option, let value):
            "invalid \(option) address '\(value)': expected a dotted-quad IPv4 address such as 192.0.2.1"
        case .notMulticast(let value):
            "--mcast address '\(value)' is not a multicast group: allowed are 224.0.0.0 to 239.255.255.255"
        case .unspecifiedAddress(let option):
            "\(option) 0.0.0.0 is not usable: give this host's real address"
        case .unknownFacility(let name):
            "unknown syslog facility '\(name)': use none, "
                + SyslogFacility.all.map(\.name).joined(separator: ", ")
        case .emptyValue(let option): "\(option) must not be empty"
        case .passwordTooLong(let length):
            "the password is \(length) bytes long: CARP (as ucarp implements it) allows at most "
                + "\(CARPWire.maximumPasswordLength)"
        case .passfileUnreadable(let path, let reason): "cannot read passfile '\(path)': \(reason)"
        case .passfileEmpty(let path): "passfile '\(path)' is empty: its first line is the password"
        case .missing(let option, let what): "missing \(option): \(what)"
        case .bothZero:
            "--advbase and --advskew are both 0: at least one must be positive (advbase 0 with a "
                + "skew gives sub-second advertisements)"
        case .strayArgument(let argument):
            "unexpected argument '\(argument)': every value belongs to an option (see --help)"
        case .noSuchInterface(let name): "interface '\(name)' does not exist (see 'ip link')"
        case .peerNotUnicast(let value):
            "--peer '\(value)' is a multicast address: peers are the other hosts' unicast addresses"
        case .peerIsSelf(let value): "--peer \(value) is this host's own --srcip: list the other hosts"
        }
    }
}
