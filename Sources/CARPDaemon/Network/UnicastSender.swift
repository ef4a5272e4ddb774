import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// Sends advertisements as unicast to each `--peer`, through a raw protocol-112 socket: the
/// kernel routes, resolves the next hop's MAC and builds the IP header, which we make look
/// like ucarp's over IPv4 (TTL 255, TOS low delay, DF) and like FreeBSD's over IPv6 (hop limit
/// 255, traffic class CS7, no kernel checksum), with our `--srcip` as the source.
///
/// The socket also makes the kernel accept incoming protocol-112 packets instead of answering
/// "protocol unreachable"; we read them with libpcap, so its receive buffer is kept minimal.
final class UnicastSender {
    private enum Peers {
        case ipv4([IPv4Address])
        /// With the interface index the destinations (a link-local one needs it) are scoped to.
        case ipv6([IPv6Address], interfaceIndex: UInt32)
    }

    private let socket: FileDescriptor
    private let peers: Peers

    /// Unicast over IPv4, as ucarp's adverts look.
    init(sourceAddress: IPv4Address, peers: [IPv4Address]) throws(DaemonError) {
        self.peers = .ipv4(peers)
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

    /// Unicast over IPv6 from `sourceAddress` on the interface with index `interfaceIndex`.
    /// `IPV6_CHECKSUM` stays unset: the CARP checksum is ours, over the 36 bytes alone.
    init(sourceAddress: IPv6Address, peers: [IPv6Address], interfaceIndex: UInt32) throws(DaemonError) {
        self.peers = .ipv6(peers, interfaceIndex: interfaceIndex)
        let socket = try System.ipv6Socket(raw: true, protocol: CARPWire.ipProtocol, for: "--peer")
        do throws(DaemonError) {
            try System.setIPv6AdvertisementOptions(
                socket, trafficClass: CARPWire.ipv6TrafficClass, subject: "--peer socket")
            try System.setOption(
                socket, level: SOL_SOCKET, option: SO_RCVBUF, value: 1, name: "SO_RCVBUF", subject: "--peer socket")
            try System.bind(
                socket, to: sourceAddress, index: interfaceIndex, call: "bind to --srcip \(sourceAddress)",
                subject: "--peer socket")
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
        var failures: [(peer: IPAddress, errno: Errno)] = []
        func attempt(_ peer: IPAddress, _ body: () throws(DaemonError) -> Void) throws(DaemonError) {
            do throws(DaemonError) {
                try body()
            } catch {
                guard case .system(_, _, let errno) = error else { throw error }
                failures.append((peer, errno))
            }
        }
        switch peers {
        case .ipv4(let peers):
            for peer in peers {
                try attempt(.ipv4(peer)) { () throws(DaemonError) in try System.send(header, on: socket, to: peer) }
            }
        case .ipv6(let peers, let index):
            for peer in peers {
                try attempt(.ipv6(peer)) { () throws(DaemonError) in
                    try System.send(header, on: socket, to: peer, index: index)
                }
            }
        }
        guard failures.isEmpty else { throw .unicast(failures: failures) }
    }
}
