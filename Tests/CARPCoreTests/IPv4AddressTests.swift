import Testing

@testable import CARPCore

@Suite struct IPv4AddressTests {
    @Test(arguments: [
        ("0.0.0.0", 0x0000_0000 as UInt32), ("255.255.255.255", 0xFFFF_FFFF), ("192.0.2.1", 0xC000_0201),
        ("10.0.0.12", 0x0A00_000C), ("224.0.0.18", 0xE000_0012),
    ])
    func parsesDottedQuads(_ text: String, _ value: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.value == value)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3",
        ".1.2.3", "1.2.3.", "1.2.3.4.", "1.2.3.-4", "0x1.2.3.4", "1.2.3.1000", "4294967295", "1.2.3.00", "１.2.3.4",
    ])
    func rejectsAnythingInetPtonRejects(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func parsesSubstrings() {
        let text = "addr=192.0.2.1"
        #expect(IPv4Address(text.dropFirst(5)) == IPv4Address(192, 0, 2, 1))
    }

    @Test func octetsAreInNetworkOrder() {
        let address = IPv4Address(192, 0, 2, 11)
        #expect(address.value == 0xC000_020B)
        #expect(address.octets == [192, 0, 2, 11])
        #expect(IPv4Address(networkOrder: [9, 192, 0, 2, 11], at: 1) == address)
    }

    @Test func tieBreakKeyWeighsTheLastOctetMost() {
        let a = IPv4Address(10, 0, 0, 12)
        let b = IPv4Address(192, 0, 2, 11)
        // Numerically 10.0.0.12 is lower; as ucarp compares s_addr on little-endian, it is higher.
        #expect(a.value < b.value)
        #expect(a.ucarpTieBreakKey > b.ucarpTieBreakKey)
        #expect(a.ucarpTieBreakKey == 0x0C00_000A)
        #expect(IPv4Address(192, 0, 2, 12).ucarpTieBreakKey > IPv4Address(192, 0, 2, 11).ucarpTieBreakKey)
        #expect(IPv4Address(10, 0, 0, 2).ucarpTieBreakKey > IPv4Address(192, 0, 2, 1).ucarpTieBreakKey)
        #expect(IPv4Address(192, 0, 2, 1).ucarpTieBreakKey > IPv4Address(10, 0, 0, 1).ucarpTieBreakKey)
    }

    @Test func multicastMACTakesTheLow23Bits() {
        #expect(IPv4Address(224, 0, 0, 18).multicastMAC == [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12])
        #expect(IPv4Address(239, 255, 1, 2).multicastMAC == [0x01, 0x00, 0x5E, 0x7F, 0x01, 0x02])
        #expect(IPv4Address(224, 128, 1, 2).multicastMAC == [0x01, 0x00, 0x5E, 0x00, 0x01, 0x02])
    }

    @Test func classifiesMulticastAndUnspecified() {
        #expect(IPv4Address(224, 0, 0, 0).isMulticast)
        #expect(IPv4Address(239, 255, 255, 255).isMulticast)
        #expect(!IPv4Address(223, 255, 255, 255).isMulticast)
        #expect(!IPv4Address(240, 0, 0, 0).isMulticast)
        #expect(IPv4Address(0).isUnspecified)
        #expect(!IPv4Address(0, 0, 0, 1).isUnspecified)
    }
}
