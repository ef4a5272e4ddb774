import CARPCore
import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// The interface an instance is bound to: its index, MAC and carrier, and the datagram socket
/// that asks the kernel about them and holds the multicast membership.
final class NetworkInterface {
    let name: String
    let index: UInt32
    let mac: [UInt8]
    /// `name` as a C string, made once: ``linkState()`` passes it at every wake-up.
    private let cName: [CChar]
    private let socket: FileDescriptor
    /// An `AF_INET6` datagram socket holding the IPv6 group membership, once there is one.
    private var ipv6Socket: FileDescriptor?

    /// Whether a network interface of this name exists (`if_nametoindex`).
    static func exists(_ name: String) -> Bool {
        (try? System.interfaceIndex(of: name)) != nil
    }

    init(name: String) throws(DaemonError) {
        self.name = name
        cName = Array(name.utf8CString)
        index = try System.interfaceIndex(of: name)
        let socket = try System.datagramSocket(for: name)
        let hardware: (address: [UInt8], type: UInt32)
        do throws(DaemonError) {
            hardware = try System.hardwareAddress(of: name, using: socket)
        } catch {
            System.release(socket)
            throw error
        }
        guard hardware.type == swiftcarp_arphrd_ether() else {
            System.release(socket)
            throw DaemonError.notEthernet(interface: name, hardwareType: hardware.type)
        }
        mac = hardware.address
        self.socket = socket
    }

    deinit {
        System.release(socket)
        if let ipv6Socket { System.release(ipv6Socket) }
    }

    /// Joins the group so the NIC passes its frames up (ucarp's `IP_ADD_MEMBERSHIP`).
    func join(group: IPv4Address) throws(DaemonError) {
        try System.join(group: group, interface: name, index: index, using: socket)
    }

    /// Joins the IPv6 group (`IPV6_ADD_MEMBERSHIP`), so that the NIC, and a bridge snooping
    /// MLD, pass its frames up; the membership lasts as long as this interface object.
    func join(group: IPv6Address) throws(DaemonError) {
        let socket: FileDescriptor
        if let ipv6Socket {
            socket = ipv6Socket
        } else {
            socket = try System.ipv6Socket(raw: false, protocol: 0, for: name)
            ipv6Socket = socket
        }
        try System.join(group: group, interface: name, index: index, using: socket)
    }

    /// Whether the interface has `address` (`getifaddrs`), as an IPv6 `--srcip` must.
    func has(_ address: IPv6Address) throws(DaemonError) -> Bool {
        try System.interface(name, has: address)
    }

    /// `SIOCGIFFLAGS`: running means up with carrier (`IFF_RUNNING`), as ucarp checks it.
    /// Missing when no interface has the name, or another one than ours (a new index: ours was
    /// deleted and one of the same name created, whose flags are not ours to read). It runs at
    /// every wake-up: two `ioctl`s on the socket already open, with the C name made once, and
    /// no error built.
    func linkState() -> LinkState {
        let descriptor = socket.rawValue
        var current: UInt32 = 0
        while cName.withUnsafeBufferPointer({ swiftcarp_interface_index(descriptor, $0.baseAddress, &current) }) != 0 {
            let code = Errno(rawValue: Glibc.errno)
            guard code == .interrupted else { return .missing(code) }
        }
        guard current == index else { return .missing(.operationNotSupportedByDevice) }
        var flags: UInt32 = 0
        while cName.withUnsafeBufferPointer({ swiftcarp_interface_flags(descriptor, $0.baseAddress, &flags) }) != 0 {
            let code = Errno(rawValue: Glibc.errno)
            // ENODEV ("No such device") is what a gone interface gives.
            guard code == .interrupted else { return .missing(code) }
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
