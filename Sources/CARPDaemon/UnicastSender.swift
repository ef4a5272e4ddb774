import CARPCore
import Glibc
import SystemPackage

/// Sends advertisements as unicast IPv4 to each `--peer`, through a raw protocol-112 socket:
/// the kernel routes, resolves the next hop's MAC and builds the IP header, which we make look
/// like ucarp's (TTL 255, TOS low delay, DF) with our `--srcip` as the source.
///
/// The socket also makes the kernel accept incoming protocol-112 packets instead of answering
/// "protocol unreachable"; we read them with libpcap, so its receive buffer is kept minimal.
final class UnicastSender {
    private let socket: FileDescriptor
    let peers: [IPv4Address]

    init(sourceAddress: IPv4Address, peers: [IPv4Address]) throws(DaemonError) {
        self.peers = peers
        let socket = try System.rawSocket(protocol: CARPWire.ipProtocol, for: "--peer")
        do throws(DaemonError) {
            func option(_ level: CInt, _ option: CInt, _ value: CInt, _ name: String) throws(DaemonError) {
                try System.setOption(
                    socket, level: level, option: option, value: value, name: name, subject: "--peer socket")
            }
            try option(CInt(IPPROTO_IP), IP_TTL, CInt(CARPWire.ttl), "IP_TTL")
            try option(CInt(IPPROTO_IP), IP_TOS, CInt(CARPWire.ipTypeOfService), "IP_TOS")
            try option(CInt(IPPROTO_IP), IP_MTU_DISCOVER, CInt(IP_PMTUDISC_DO), "IP_MTU_DISCOVER")
            try option(SOL_SOCKET, SO_RCVBUF, 1, "SO_RCVBUF")
            try System.bind(
                socket, to: sourceAddress, call: "bind to --srcip \(sourceAddress)", subject: "--peer socket")
        } catch {
            System.release(socket)
            throw error
        }
        self.socket = socket
    }

    deinit {
        System.release(socket)
    }

    /// Sends `header` to every peer, even after one failed; throws the failures, if any.
    func send(_ header: [UInt8]) throws(DaemonError) {
        var failures: [(peer: IPv4Address, errno: Errno)] = []
        for peer in peers {
            do throws(DaemonError) {
                try System.send(header, on: socket, to: peer)
            } catch {
                guard case .system(_, _, let errno) = error else { throw error }
                failures.append((peer, errno))
            }
        }
        guard failures.isEmpty else { throw .unicast(failures: failures) }
    }
}
