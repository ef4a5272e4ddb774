import CARPCore

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
    /// A period of seconds more than 0 but below `minimum`, where 0 turns the feature off.
    case tooShort(option: String, value: String, minimum: String)
    /// `--cleanup` reads the state file the instance kept.
    case cleanupWithoutStateFile
    /// `--group`'s name is not one a file name can carry.
    case invalidGroupName(String)
    /// `--status` and `--maintenance` take only the options of the host state.
    case hostCommand(option: String, stray: String)
    /// `--json` without `--status`.
    case jsonWithoutStatus
    /// `--maintenance=` with something other than on or off.
    case invalidMaintenance(String)
    case metricsFileName(String)
    /// An address with a colon that is not IPv6 as `inet_pton` reads it.
    case invalidIPv6Address(option: String, AddressError)
    case unspecifiedIPv6Address(option: String)
    case sourceNotUnicast(value: String)
    case notIPv6Multicast(value: String)
    /// A virtual address no host could share: link-local, multicast, unspecified.
    case unusableVirtualAddress(value: String, why: String)
    /// The same virtual address given twice (in either spelling).
    case duplicateVirtualAddress(value: String)
    case tooManyVirtualAddresses(count: Int)
    /// `--mcast` or `--peer` of another family than `--srcip`.
    case familyMismatch(option: String, value: String, source: String)
    /// `--etcd` (or an item of its list) is not an `http://` or `https://` URL.
    case etcdEndpoint(String)
    /// An `--etcd` URL with `user:password@`; the value is the URL without them.
    case etcdCredentialsInURL(String)
    case etcdUnreachable(String)
    case etcdKeyNotAbsolute(option: String, value: String)
    /// A certificate, key or passfile of the etcd guard cannot be read.
    case etcdFileUnreadable(option: String, path: String, reason: String)
    case etcdPassfileEmpty(path: String)
    /// `--etcd-key` is encrypted: nobody could type its passphrase.
    case etcdKeyEncrypted(path: String)
    /// `option` is given without the `other` it needs.
    case etcdNeeds(option: String, other: String)
    /// An `--etcd-*` option without `--etcd`.
    case etcdWithoutEndpoint(option: String)
    /// `--auth` is neither `ucarp` nor `strict`.
    case unknownAuthMode(String)
    /// `--reload` misused: the message says how it is called.
    case reloadUsage(String)

    /// Whether the command line itself is at fault (worth pointing to --help).
    public var isCommandLineError: Bool {
        switch self {
        case .inConfiguration, .configuration, .configurationUnreadable, .passfileUnreadable, .passfileEmpty,
            .noSuchInterface, .etcdFileUnreadable, .etcdPassfileEmpty, .etcdKeyEncrypted:
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
        case .tooShort(let option, let value, let minimum):
            "\(option) '\(value)' is too short: 0 (off) or at least \(minimum) seconds"
        case .invalidGroupName(let value):
            "--group '\(value)' is not a group name: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        case .hostCommand(let option, let stray):
            "\(option) takes only --config, --host-state, --group and --json, not \(stray)"
        case .jsonWithoutStatus: "--json goes with --status only"
        case .invalidMaintenance(let value): "--maintenance='\(value)': give on or off, or nothing to print the state"
        case .cleanupWithoutStateFile:
            "--cleanup needs the --statefile the instance kept: it releases the address only if that says it held it"
        case .metricsFileName(let path):
            "--metrics-file '\(path)' does not end in .prom: node_exporter's textfile collector reads only *.prom files"
        case .invalidIPv6Address(let option, let error): "invalid \(option) address: \(error.description)"
        case .unspecifiedIPv6Address(let option): "\(option) :: is not usable: give this host's real address"
        case .sourceNotUnicast(let value):
            "--srcip '\(value)' is a multicast address: give an IPv6 address of the interface"
        case .notIPv6Multicast(let value):
            "--mcast address '\(value)' is not an IPv6 multicast group: allowed are ff00::/8 (default ff02::12)"
        case .unusableVirtualAddress(let value, let why): "--addr '\(value)' cannot be a virtual address: \(why)"
        case .duplicateVirtualAddress(let value):
            "--addr '\(value)' is given twice: list each virtual address once"
        case .tooManyVirtualAddresses(let count):
            "\(count) virtual addresses: one vhid takes at most \(Settings.maximumVirtualAddresses)"
        case .familyMismatch(let option, let value, let source):
            "\(option) '\(value)' is not of the family of --srcip \(source): "
                + "an instance advertises over IPv4 or over IPv6, as its --srcip"
        case .etcdEndpoint(let value):
            "invalid --etcd endpoint '\(value)': expected an http:// or https:// URL such as http://192.0.2.1:2379"
        case .etcdCredentialsInURL(let value):
            "--etcd endpoint '\(value)' holds credentials (user:password@, not shown): they would show in ps and "
                + "in logs; give --etcd-user and --etcd-passfile instead"
        case .etcdUnreachable(let value): "invalid --etcd-unreachable '\(value)': expected release or keep"
        case .etcdKeyNotAbsolute(let option, let value): "\(option) '\(value)' must start with /"
        case .etcdFileUnreadable(let option, let path, let reason): "cannot read \(option) '\(path)': \(reason)"
        case .etcdPassfileEmpty(let path): "--etcd-passfile '\(path)' is empty: its first line is the etcd password"
        case .etcdKeyEncrypted(let path):
            "--etcd-key '\(path)' is encrypted: give it unencrypted (openssl pkey -in KEY -out PLAIN), readable by root only"
        case .etcdNeeds(let option, let other): "\(option) needs \(other)"
        case .etcdWithoutEndpoint(let option): "\(option) needs --etcd: name the etcd endpoints"
        case .unknownAuthMode(let value):
            "invalid --auth '\(value)': expected ucarp (the default, ucarp's wire) or strict (every peer SwiftCARP)"
        case .reloadUsage(let problem):
            "\(problem); usage: ucarp --reload [--config=FILE] [--pidfile=FILE] [--statefile=FILE] "
                + "(at least one, naming the running instance), or ucarp --reload --all"
        }
    }
}
