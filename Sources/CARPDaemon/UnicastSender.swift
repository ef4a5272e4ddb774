import CARPCore
import CSystemShims
import Glibc
import SystemPackage

/// Sends advertisements as unicast IPv4 to each `--peer`, through a raw protocol-112 socket:
/// the kernel routes, resolves the next hop's MAC and builds the IP header, which we make look
/// like ucarp's (TTL 255, TOS low delay, DF) with our `--srcip` as the source.
///
/// The socket also makes the kernel accept incoming protocol-112 packets instead of answering
/// "protocol unreachable"; we read them with libpcap, so its receive buffer is kept minimal.
final class UnicastSender {
    private let socket: CInt
    let peers: [IPv4Address]

    init(sourceAddress: IPv4Address, peers: [IPv4Address]) throws(DaemonError) {
        self.peers = peers
        socket = Glibc.socket(
            AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), CInt(CARPWire.ipProtocol))
        guard socket >= 0 else { throw DaemonError.lastError("socket(AF_INET, SOCK_RAW, 112)", "--peer") }
        do throws(DaemonError) {
            try option(CInt(IPPROTO_IP), IP_TTL, CInt(CARPWire.ttl), "IP_TTL")
            try option(CInt(IPPROTO_IP), IP_TOS, CInt(CARPWire.ipTypeOfService), "IP_TOS")
            try option(CInt(IPPROTO_IP), IP_MTU_DISCOVER, CInt(IP_PMTUDISC_DO), "IP_MTU_DISCOVER")
            try option(SOL_SOCKET, SO_RCVBUF, 1, "SO_RCVBUF")
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = sourceAddress.value.bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw DaemonError.lastError("bind to --srcip \(sourceAddress)", "--peer socket") }
        } catch {
            close(socket)
            throw error
        }
    }

    deinit {
        close(socket)
    }

    private func option(_ level: CInt, _ name: CInt, _ value: CInt, _ label: String) throws(DaemonError) {
        var value = value
        guard setsockopt(socket, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
            throw DaemonError.lastError("setsockopt(\(label))", "--peer socket")
        }
    }

    /// Sends `header` to every peer; the errors of those that failed, if any.
    func send(_ header: [UInt8]) -> String? {
        var failures: [String] = []
        for peer in peers {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = peer.value.bigEndian
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { destination in
                    header.withUnsafeBytes {
                        sendto(
                            socket, $0.baseAddress, $0.count, 0, destination, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if sent != header.count {
                failures.append("\(peer): \(Errno(rawValue: errno).description)")
            }
        }
        return failures.isEmpty ? nil : "sendto " + failures.joined(separator: ", ")
    }
}
