import Testing

@testable import CARPCore

/// The unsolicited neighbour advertisement of a new master, against frames made independently:
/// each was assembled with python3's `struct` (ICMPv6 checksum over the RFC 4443 pseudo-header
/// computed by hand) and, separately, by scapy 2.5 (Debian's python3-scapy) as
/// `Ether(dst="33:33:00:00:00:01", src=mac) / IPv6(src=vip, dst="ff02::1", hlim=255)
/// / ICMPv6ND_NA(R=router, S=0, O=1, tgt=vip) / ICMPv6NDOptDstLLAddr(lladdr=mac)`, which
/// computes the checksum itself; both gave the same bytes.
@Suite struct NeighbourAdvertisementTests {
    struct Vector: Sendable, CustomStringConvertible {
        var mac: [UInt8]
        var address: String
        var router: Bool
        var checksum: UInt16
        var frame: String
        var description: String { "\(address) router \(router)" }
    }

    static let vectors = [
        Vector(
            mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], address: "2001:db8::100", router: false, checksum: 0x7271,
            frame: "333300000001" + "525400123456" + "86dd"  // Ethernet to all nodes, from the real MAC
                + "60000000" + "0020" + "3a" + "ff"  // IPv6: payload 32, ICMPv6, hop limit 255
                + "20010db8000000000000000000000100" + "ff020000000000000000000000000001"
                + "88" + "00" + "7271" + "20000000"  // type 136, code 0, checksum, Override
                + "20010db8000000000000000000000100"  // target
                + "0201" + "525400123456"),  // target link-layer address option
        Vector(
            mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], address: "2001:db8::100", router: true, checksum: 0xf270,
            frame: "333300000001" + "525400123456" + "86dd"
                + "60000000" + "0020" + "3a" + "ff"
                + "20010db8000000000000000000000100" + "ff020000000000000000000000000001"
                + "88" + "00" + "f270" + "a0000000"  // Router and Override
                + "20010db8000000000000000000000100"
                + "0201" + "525400123456"),
        Vector(
            mac: [0x02, 0x00, 0x00, 0x00, 0x00, 0x11], address: "2001:db8:0:1::5", router: false, checksum: 0xf910,
            frame: "333300000001" + "020000000011" + "86dd"
                + "60000000" + "0020" + "3a" + "ff"
                + "20010db8000000010000000000000005" + "ff020000000000000000000000000001"
                + "88" + "00" + "f910" + "20000000"
                + "20010db8000000010000000000000005"
                + "0201" + "020000000011"),
    ]

    @Test(arguments: vectors)
    func frameIsTheIndependentlyMadeOne(_ vector: Vector) throws {
        let frame = NeighbourAdvertisement.frame(
            interfaceMAC: vector.mac, virtualAddress: try IPv6Address(parsing: vector.address), router: vector.router)
        #expect(frame.count == NeighbourAdvertisement.frameLength)
        #expect(hexString(frame) == vector.frame)
        #expect(UInt16(frame[56]) << 8 | UInt16(frame[57]) == vector.checksum)
    }

    @Test func routerFlagIsOffUnlessAsked() throws {
        let address = try IPv6Address(parsing: "2001:db8::100")
        let mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        #expect(
            NeighbourAdvertisement.frame(interfaceMAC: mac, virtualAddress: address)
                == NeighbourAdvertisement.frame(interfaceMAC: mac, virtualAddress: address, router: false))
    }

    @Test func checksumCoversThePseudoHeader() throws {
        // Verifying as a receiver does: the sum over pseudo-header and message is zero.
        let address = try IPv6Address(parsing: "2001:db8::7")
        let frame = NeighbourAdvertisement.frame(interfaceMAC: [2, 0, 0, 0, 0, 1], virtualAddress: address)
        let icmp = Array(frame[54...])
        let pseudoHeader = address.octets + CARPWire.allNodesGroup.octets + [0, 0, 0, UInt8(icmp.count), 0, 0, 0, 58]
        #expect(internetChecksum(pseudoHeader + icmp) == 0)
        #expect(internetChecksum(icmp) != 0)
    }
}
