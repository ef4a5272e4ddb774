import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

/// Raw sockets need root (or CAP_NET_RAW), as the daemon does.
@Suite(.enabled(if: geteuid() == 0, "raw sockets need root"))
struct UnicastSenderTests {
    @Test func aPeerThatFailsIsReportedAndTheNextIsStillSentTo() throws {
        let loopback = IPv4Address(127, 0, 0, 1)
        let listener = try System.rawSocket(protocol: CARPWire.ipProtocol, for: "test")
        defer { System.release(listener) }
        let sender = try UnicastSender(sourceAddress: loopback, peers: [IPv4Address(255, 255, 255, 255), loopback])
        let header = (0..<36).map { _ in UInt8.random(in: 0...255) }
        let error = #expect(throws: DaemonError.self) {
            try sender.send(header)
        }
        // Without SO_BROADCAST the kernel refuses the broadcast address.
        #expect(error?.description == "sendto 255.255.255.255: Permission denied")
        #expect(try receives(header, on: listener))
    }

    @Test func ipv6HeadersGoToEveryPeerWithTheCARPBytesAsTheyAre() throws {
        let loopback = IPv6Address(0, 0, 0, 0, 0, 0, 0, 1)
        let listener = try System.ipv6Socket(raw: true, protocol: CARPWire.ipProtocol, for: "test")
        defer { System.release(listener) }
        let sender = try UnicastSender(sourceAddress: loopback, peers: [loopback], interfaceIndex: 0)
        let header = (0..<36).map { _ in UInt8.random(in: 0...255) }
        try sender.send(header)
        // A raw IPv6 socket hands over the payload alone: the kernel added no checksum to it.
        var ready = pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0)
        var received: [UInt8] = []
        while poll(&ready, 1, 1000) == 1 {
            received = try System.read(listener, upTo: 2048, subject: "test")
            if received == header { break }
        }
        #expect(received == header)
    }

    /// Whether a packet carrying `payload` (after its IP header) arrives within a second.
    func receives(_ payload: [UInt8], on socket: FileDescriptor) throws -> Bool {
        var ready = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 1000) == 1 {
            let packet = try System.read(socket, upTo: 2048, subject: "test")
            guard let first = packet.first else { return false }
            if packet.dropFirst(Int(first & 0x0F) * 4).elementsEqual(payload) { return true }
        }
        return false
    }
}
