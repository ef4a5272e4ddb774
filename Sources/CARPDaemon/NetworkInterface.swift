import CARPCore
import CSystemShims
import Glibc
import SystemPackage

/// The interface an instance is bound to: its index, MAC and carrier, and the datagram socket
/// that asks the kernel about them and holds the multicast membership.
final class NetworkInterface {
    let name: String
    let index: UInt32
    let mac: [UInt8]
    private let socket: CInt

    /// Whether a network interface of this name exists (`if_nametoindex`).
    static func exists(_ name: String) -> Bool {
        if_nametoindex(name) != 0
    }

    init(name: String) throws(DaemonError) {
        self.name = name
        index = if_nametoindex(name)
        guard index != 0 else { throw DaemonError.lastError("if_nametoindex", name) }
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw DaemonError.lastError("socket(AF_INET, SOCK_DGRAM)", name) }
        var address = [UInt8](repeating: 0, count: 6)
        var hardwareType: UInt32 = 0
        guard swiftcarp_interface_mac(socket, name, &address, &hardwareType) == 0 else {
            let error = DaemonError.lastError("ioctl(SIOCGIFHWADDR)", name)
            close(socket)
            throw error
        }
        guard hardwareType == swiftcarp_arphrd_ether() else {
            close(socket)
            throw DaemonError.notEthernet(interface: name, hardwareType: hardwareType)
        }
        mac = address
    }

    deinit {
        close(socket)
    }

    /// Joins the group so the NIC passes its frames up (ucarp's `IP_ADD_MEMBERSHIP`).
    func join(group: IPv4Address) throws(DaemonError) {
        guard swiftcarp_join_group(socket, group.value, Int32(index)) == 0 else {
            throw DaemonError.lastError("setsockopt(IP_ADD_MEMBERSHIP \(group))", name)
        }
    }

    enum LinkState: Equatable {
        case running
        case noCarrier
        /// The interface is gone (renamed or removed).
        case missing(Errno)
    }

    /// `SIOCGIFFLAGS`: running means up with carrier (`IFF_RUNNING`), as ucarp checks it.
    func linkState() -> LinkState {
        var flags: UInt32 = 0
        guard swiftcarp_interface_flags(socket, name, &flags) == 0 else {
            return .missing(Errno(rawValue: errno))
        }
        return flags & swiftcarp_iff_running() != 0 ? .running : .noCarrier
    }
}

extension [UInt8] {
    /// `aa:bb:cc:dd:ee:ff`.
    var macDescription: String {
        map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined(separator: ":")
    }
}
