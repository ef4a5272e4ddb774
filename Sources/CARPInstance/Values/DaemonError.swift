import CARPCore
import SystemPackage

/// A failure of the daemon's shell, with the system's reason where there is one.
public enum DaemonError: Error, CustomStringConvertible {
    /// A system call failed: which call, on what, and errno (``System`` throws it).
    case system(call: String, subject: String, errno: Errno)
    /// libpcap refused: what it was asked and its own message.
    case pcap(action: String, interface: String, message: String)
    /// libpcap could not send a frame on `interface`: its own message, which names the call
    /// that failed (`send: Network is down`).
    case injection(interface: String, message: String)
    /// `sendto` failed for these `--peer`s; the others were sent to.
    case unicast(failures: [(peer: IPAddress, errno: Errno)])
    case notEthernet(interface: String, hardwareType: UInt32)
    case noInterface
    case alreadyRunning(pid: String, pidFile: String)
    /// Another user could plant a file or a link where `option`'s `path` is written; `reason`
    /// names the directory and what is wrong with it.
    case unsafeDirectory(option: String, path: String, reason: String)
    /// The pid file exists and belongs to another user, who could hold its lock.
    case pidFileNotOurs(path: String, owner: UInt32)
    /// An IPv6 `--srcip` the interface does not have: adverts from it would not be ours.
    case sourceAddressNotOnInterface(address: IPv6Address, interface: String)
    /// The system refused what needs `capability` (an unprivileged daemon without it):
    /// `action` says what on `interface`, as "capture on eth0".
    case missingCapability(capability: String, action: String, interface: String)
    /// The settings' families disagree (the command line refuses this first).
    case familyMismatch(String)

    /// Whether the settings are at fault rather than the system: exit 1, as a bad command line.
    public var isInvalidSettings: Bool {
        switch self {
        case .sourceAddressNotOnInterface, .familyMismatch: true
        default: false
        }
    }
    /// The etcd guard's HTTP client cannot be had (libcurl missing, or refusing to start).
    case etcd(String)
    /// `--auth=strict`'s state file holds something else than an epoch, or the last one.
    case authState(path: String, reason: String)

    public var description: String {
        switch self {
        case .system(let call, let subject, let errno): "\(call) on \(subject) failed: \(errno.description)"
        case .pcap(let action, let interface, let message): "Unable to \(action) on [\(interface)]: \(message)"
        // The send failures are bare messages: the log puts them after "write() has failed: ", as ucarp.
        case .injection(_, let message): message
        case .unicast(let failures):
            "sendto " + failures.map { "\($0.peer): \($0.errno.description)" }.joined(separator: ", ")
        case .notEthernet(let interface, let type):
            "interface [\(interface)] is not Ethernet (hardware type \(type)): CARP needs an Ethernet segment"
        case .alreadyRunning(let pid, let pidFile):
            "already running as pid \(pid) (\(pidFile) is locked): refusing to start a second instance"
        case .unsafeDirectory(let option, let path, let reason):
            "\(option) \(path): its directory \(reason): another user could put a link or a file of theirs "
                + "there; use a directory only root can write, such as /run/ucarp"
        case .pidFileNotOurs(let path, let owner):
            "--pidfile \(path) belongs to uid \(owner), not to us: that user could hold its lock; remove it"
        case .sourceAddressNotOnInterface(let address, let interface):
            "--srcip \(address) is not an address of [\(interface)]: give one that 'ip -6 addr show dev \(interface)' lists"
        case .missingCapability(let capability, let action, let interface):
            "need \(capability) to \(action) on \(interface) (run as root or grant it)"
        case .familyMismatch(let message): message
        case .etcd(let message): "etcd: \(message)"
        case .authState(let path, let reason): "--auth-state '\(path)': \(reason)"
        case .noInterface: "You must supply a network interface (--interface): no capture device was found"
        }
    }
}
