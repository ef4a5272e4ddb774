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
    /// `--notify`: a program and its first arguments, run on every state change with four more
    /// (`INSTANCE <name> <state> <priority>`), as keepalived runs its `notify` script.
    public var notify: [String]?
    /// `--name`: the instance's name for the notify script; nil is ``instanceName``'s default.
    public var name: String?
    /// `--garp-repeat`: the gratuitous ARPs of a new master, the first at once.
    public var garpRepeat = 2
    /// `--garp-interval`: between those ARPs; nil sends each with the second advertisement
    /// after the previous one, as ucarp sends its second.
    public var garpInterval: MonotonicDuration?
    /// `--garp-refresh`: one more ARP this often while master; nil never.
    public var garpRefresh: MonotonicDuration?
    /// `--handover-wait`: how long at most a master leaving on purpose keeps the address for
    /// the new master; nil is the default, ``defaultHandOverWait``; zero lets it go at once.
    public var handOverWait: MonotonicDuration?

    /// Two advertisement intervals, at least a second: a backup (ours or ucarp) takes over
    /// at once on the leaving advertisement, and its second advertisement comes one of its
    /// intervals later.
    public var defaultHandOverWait: MonotonicDuration { .seconds(UInt64(max(1, 2 * UInt32(advbase)))) }

    /// The name the notify script gets: `--name`, else `vhid<N>`.
    public var instanceName: String { name ?? "vhid\(vhid)" }
    /// `--metrics-file`: Prometheus text for node_exporter's textfile collector; nil none.
    public var metricsFile: String?
    /// `--etcd` and its companions: MASTER only while holding an etcd lease; nil without.
    public var etcd: EtcdSettings?

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
    public static let garpRepeatRange: ClosedRange<UInt32> = 1...255
    public static let garpRefreshMinimum = MonotonicDuration.milliseconds(100)
}
