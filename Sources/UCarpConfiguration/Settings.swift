import CARPCore

/// Everything one instance runs with, validated: the ucarp command line made typed.
public struct Settings: Equatable, Sendable {
    /// nil: ucarp picks the first capture device, as `pcap_lookupdev` did.
    public var interface: String?
    /// `--srcip`: its family is the family the instance advertises over.
    public var sourceAddress: IPAddress
    /// `--mcast`: of the source's family; 224.0.0.18 or ff02::12 unless given.
    public var group: IPAddress
    public var vhid: UInt8
    public var password: [UInt8]
    /// Where the password came from, when it was `--passfile`.
    public var passfile: String?
    public var preempt = false
    public var neutral = false
    /// `--addr` (repeatable) or `VIP_ADDRESS`: every address of the virtual host, in the order
    /// given, never empty, each once. The first is the one single-address code paths (ucarp's)
    /// name.
    public var virtualAddresses: [IPAddress]
    /// The addresses exactly as given, in the same order, which the scripts get (one run each).
    public var virtualAddressArguments: [String]
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
    /// `--watchdog`: in the foreground too, a supervising parent that releases the address
    /// when the instance dies (as `--daemonize` always has), for runit, containers and terminals.
    public var watchdog = false
    /// Whether a supervisor runs the instance in a child: `--daemonize` or `--watchdog`.
    public var supervised: Bool { daemonize || watchdog }
    /// `--no-sentinel`: no sentinel process beside a foreground instance (ucarp's one process
    /// exactly); its address then outlives a SIGKILL of the daemon, as ucarp's does.
    public var noSentinel = false
    /// Whether a foreground instance forks a sentinel, which releases the address if the
    /// daemon dies without leaving: the default when no supervisor runs it.
    public var sentinel: Bool { !supervised && !noSentinel }
    public var ignoreInterfaceState = false
    public var noMulticast = false
    /// `--peer`: unicast advertisements to these hosts instead of multicast.
    public var peers: [IPAddress] = []
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
    /// `--preempt-delay`: after start-up, `--preempt` waits this long; nil preempts at once.
    public var preemptDelay: MonotonicDuration?

    /// Two advertisement intervals, at least a second: a backup (ours or ucarp) takes over
    /// at once on the leaving advertisement, and its second advertisement comes one of its
    /// intervals later.
    public var defaultHandOverWait: MonotonicDuration { .seconds(UInt64(max(1, 2 * UInt32(advbase)))) }

    /// The name the notify script gets: `--name`, else `vhid<N>`.
    public var instanceName: String { name ?? "vhid\(vhid)" }
    /// `--metrics-file`: Prometheus text for node_exporter's textfile collector; nil none.
    public var metricsFile: String?
    /// `--auth`: ucarp's wire (the default) or strict authentication (every peer SwiftCARP).
    public var authentication = AuthenticationMode.ucarp
    /// `--auth-state`: where `--auth=strict` keeps its counter's epoch and the peers' counters
    /// (``StrictState``); nil is ``authStatePath``'s default.
    public var authState: String?
    /// The file of the strict counter's epoch (``StrictCounter``): `--auth-state`, else beside
    /// the `--statefile` (`STATEFILE.epoch`); nil, with neither, leaves the wall clock alone to
    /// keep the counter growing across restarts. Only `--auth=strict` uses it.
    public var authStatePath: String? {
        guard authentication == .strict else { return nil }
        return authState ?? stateFile.map { $0 + ".epoch" }
    }
    /// `--host-state`: the directory where the instances of the host publish their records
    /// and find maintenance (``defaultHostState`` unless given).
    public var hostState = Settings.defaultHostState
    /// Whether `--host-state` (or `HOST_STATE=`) was given: then a directory that cannot be
    /// used stops the start-up instead of being warned about.
    public var hostStateGiven = false
    /// `--group`: the instances of the host that share fate; nil without.
    public var hostGroup: String?

    public static let defaultHostState = "/var/lib/ucarp"
    /// `--etcd` and its companions: MASTER only while holding an etcd lease; nil without.
    public var etcd: EtcdSettings?
    /// `--shutdown`, or `--etcd`, which implies it: every way out runs the down script first
    /// (then revokes the lease), else the address would outlive the lease on a dead master.
    public var shutsDown: Bool { shutdown || etcd != nil }

    /// Settings with the defaults; the group is the default one of the source's family.
    ///
    /// - Parameter virtualAddressArguments: the addresses as given; nil, or a count other
    ///   than the addresses', is their printed form.
    public init(
        interface: String?, sourceAddress: IPAddress, vhid: UInt8, password: [UInt8],
        virtualAddresses: [IPAddress], virtualAddressArguments: [String]? = nil
    ) {
        precondition(!virtualAddresses.isEmpty, "a virtual host has at least one address")
        self.interface = interface
        self.sourceAddress = sourceAddress
        self.group = Self.defaultGroup(for: sourceAddress)
        self.vhid = vhid
        self.password = password
        self.virtualAddresses = virtualAddresses
        self.virtualAddressArguments =
            virtualAddressArguments.flatMap { $0.count == virtualAddresses.count ? $0 : nil }
            ?? virtualAddresses.map(\.description)
    }

    /// One IPv4 address advertised over IPv4: ucarp's settings.
    public init(
        interface: String?, sourceAddress: IPv4Address, vhid: UInt8, password: [UInt8],
        virtualAddress: IPv4Address, virtualAddressArgument: String? = nil
    ) {
        self.init(
            interface: interface, sourceAddress: .ipv4(sourceAddress), vhid: vhid, password: password,
            virtualAddresses: [.ipv4(virtualAddress)],
            virtualAddressArguments: [virtualAddressArgument ?? virtualAddress.description])
    }

    /// The first virtual address as given: what ucarp's single-address lines and files name.
    public var virtualAddressArgument: String { virtualAddressArguments.first ?? "" }

    /// Every virtual address as given, space-separated (`CARP_VIRTUAL_ADDRESSES`).
    public var virtualAddressList: String { virtualAddressArguments.joined(separator: " ") }

    /// The IPv4 virtual addresses, in the order given: each gets gratuitous ARPs.
    public var ipv4VirtualAddresses: [IPv4Address] { virtualAddresses.compactMap(\.ipv4) }

    /// The IPv6 virtual addresses, in the order given: each gets neighbour advertisements.
    public var ipv6VirtualAddresses: [IPv6Address] { virtualAddresses.compactMap(\.ipv6) }

    /// 224.0.0.18 for an IPv4 source, ff02::12 for an IPv6 one.
    public static func defaultGroup(for sourceAddress: IPAddress) -> IPAddress {
        switch sourceAddress {
        case .ipv4: .ipv4(CARPWire.defaultGroup)
        case .ipv6: .ipv6(CARPWire.defaultIPv6Group)
        }
    }

    /// The most virtual addresses one vhid takes: the advert does not carry them (only the
    /// digest covers them), so the bound is VRRP's, whose advertisement counts its addresses
    /// in one byte (RFC 5798 "Count IPvX Addr"), the protocol CARP stands beside on the wire.
    public static let maximumVirtualAddresses = 255

    public static let vhidRange: ClosedRange<UInt32> = 1...255
    public static let advbaseRange: ClosedRange<UInt32> = 0...255
    public static let advskewRange: ClosedRange<UInt32> = 0...255
    public static let deadRatioRange: ClosedRange<UInt32> = 1...255
    public static let checkCountRange: ClosedRange<UInt32> = 1...1000
    public static let garpRepeatRange: ClosedRange<UInt32> = 1...255
    public static let garpRefreshMinimum = MonotonicDuration.milliseconds(100)
}
