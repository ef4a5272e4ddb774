import Testing

@testable import CARPCore

@Suite struct IPv6AddressTests {
    /// Text, its eight groups, and the form `inet_ntop` prints (checked with python3's
    /// `socket.inet_ntop(AF_INET6, socket.inet_pton(AF_INET6, text))`, glibc underneath).
    @Test(arguments: [
        ("::", [0, 0, 0, 0, 0, 0, 0, 0] as [UInt16], "::"),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ("2001:db8::1", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ("2001:DB8::A", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa], "2001:db8::a"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ("1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", [1, 2, 3, 4, 5, 6, 7, 0], "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", [0, 2, 3, 4, 5, 6, 7, 8], "0:2:3:4:5:6:7:8"),
        ("1:0:2:3:4:5:6:7", [1, 0, 2, 3, 4, 5, 6, 7], "1:0:2:3:4:5:6:7"),
        ("2001:db8:0:0:1:0:0:1", [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:0:0:0:1", [0x2001, 0xdb8, 0, 1, 0, 0, 0, 1], "2001:db8:0:1::1"),
        ("fe80::1", [0xfe80, 0, 0, 0, 0, 0, 0, 1], "fe80::1"),
        ("ff02::12", [0xff02, 0, 0, 0, 0, 0, 0, 0x12], "ff02::12"),
        ("::ffff:192.0.2.1", [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], "::ffff:192.0.2.1"),
        ("::192.0.2.1", [0, 0, 0, 0, 0, 0, 0xc000, 0x0201], "::192.0.2.1"),
        ("64:ff9b::192.0.2.1", [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0201], "64:ff9b::c000:201"),
        ("1:2:3:4:5:6:1.2.3.4", [1, 2, 3, 4, 5, 6, 0x0102, 0x0304], "1:2:3:4:5:6:102:304"),
        ("::0.0.1.2", [0, 0, 0, 0, 0, 0, 0, 0x0102], "::102"),
    ])
    func parsesTheTextualForms(_ text: String, _ groups: [UInt16], _ printed: String) throws {
        let address = try IPv6Address(parsing: text)
        #expect(address.groups == groups)
        #expect(address.description == printed)
        #expect(try IPv6Address(parsing: printed) == address)
    }

    @Test(arguments: [
        ("", AddressError.empty),
        ("fe80::1%eth0", .zoneIdentifier("fe80::1%eth0")),
        ("fe80::1%2", .zoneIdentifier("fe80::1%2")),
        ("2001:db8::1/64", .prefixLength("2001:db8::1/64")),
        ("[2001:db8::1]", .invalidCharacter("[2001:db8::1]", "[")),
        ("2001:db8::g", .invalidCharacter("2001:db8::g", "g")),
        (" ::1", .invalidCharacter(" ::1", " ")),
        ("::1 ", .invalidCharacter("::1 ", " ")),
        ("２001::1", .invalidCharacter("２001::1", "２")),
        ("12345::1", .groupTooLong("12345::1", group: "12345")),
        ("1:2:3:4:5:6:7:8:9", .wrongGroupCount("1:2:3:4:5:6:7:8:9", count: 9)),
        ("1:2:3:4:5:6:7", .wrongGroupCount("1:2:3:4:5:6:7", count: 7)),
        ("1:2:3:4::5:6:7:8", .wrongGroupCount("1:2:3:4::5:6:7:8", count: 8)),
        ("1:2:3:4:5:6:7:1.2.3.4", .wrongGroupCount("1:2:3:4:5:6:7:1.2.3.4", count: 9)),
        ("1.2.3.4", .wrongGroupCount("1.2.3.4", count: 2)),
        ("1::2::3", .severalDoubleColons("1::2::3")),
        (":1::2", .emptyGroup(":1::2")),
        (":::", .emptyGroup(":::")),
        ("1:::2", .emptyGroup("1:::2")),
        ("1::2:", .emptyGroup("1::2:")),
        (":", .emptyGroup(":")),
        ("1:2:3:4:5:6:7:", .emptyGroup("1:2:3:4:5:6:7:")),
        ("1.2.3.4::", .misplacedIPv4("1.2.3.4::")),
        ("::1.2.3.4:1", .misplacedIPv4("::1.2.3.4:1")),
        ("::1.2.3", .invalidIPv4("::1.2.3")),
        ("::256.0.0.1", .invalidIPv4("::256.0.0.1")),
        ("::01.2.3.4", .invalidIPv4("::01.2.3.4")),
    ])
    func refusesWhatInetPtonRefusesNamingTheText(_ text: String, _ error: AddressError) {
        #expect(throws: error) { try IPv6Address(parsing: text) }
        #expect(IPv6Address(text) == nil)
        #expect(error.description.contains("[\(text)]"))
    }

    @Test func aZoneIdentifierIsRefusedInWordsThatSaySo() {
        #expect(AddressError.zoneIdentifier("fe80::1%eth0").description.contains("zone identifiers"))
    }

    @Test func parsesSubstrings() throws {
        let text = "addr=2001:db8::1"
        #expect(try IPv6Address(parsing: text.dropFirst(5)) == IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    }

    @Test func octetsAreInNetworkOrderAndRoundTrip() throws {
        let address = try IPv6Address(parsing: "2001:db8:1122:3344:5566:7788:99aa:bbcc")
        #expect(
            address.octets == [
                0x20, 0x01, 0x0d, 0xb8, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
            ])
        #expect(IPv6Address(octets: address.octets) == address)
        #expect(IPv6Address(octets: address.octets.dropLast()) == nil)
        #expect(IPv6Address(octets: address.octets + [0]) == nil)
        #expect(address.high == 0x2001_0db8_1122_3344 && address.low == 0x5566_7788_99aa_bbcc)
    }

    @Test func ordersAsMemcmpOrdersTheBytes() throws {
        let texts = ["fd00::1", "2001:db8:0:1::5", "::1", "2001:db8::ffff", "ff02::1", "2001:db8::1:0"]
        let sorted = try texts.map { try IPv6Address(parsing: $0) }.sorted()
        #expect(
            sorted.map(\.description) == [
                "::1", "2001:db8::ffff", "2001:db8::1:0", "2001:db8:0:1::5", "fd00::1", "ff02::1",
            ])
        #expect(sorted.map(\.octets).map(hexString) == sorted.map(\.octets).map(hexString).sorted())
    }

    @Test(arguments: [
        ("fe80::1", true, false), ("febf:ffff::1", true, false), ("fec0::1", false, false),
        ("fe7f::1", false, false), ("ff02::12", false, true), ("ff0e::1", false, true), ("2001:db8::1", false, false),
        ("::", false, false),
    ])
    func knowsLinkLocalAndMulticastAddresses(_ text: String, _ linkLocal: Bool, _ multicast: Bool) throws {
        let address = try IPv6Address(parsing: text)
        #expect(address.isLinkLocal == linkLocal)
        #expect(address.isMulticast == multicast)
        #expect(IPAddress.ipv6(address).isLinkLocal == linkLocal)
        #expect(IPAddress.ipv6(address).isMulticast == multicast)
    }

    @Test func knowsTheUnspecifiedLoopbackAndIPv4MappedAddresses() throws {
        #expect(try IPv6Address(parsing: "::").isUnspecified)
        #expect(try !IPv6Address(parsing: "::1").isUnspecified)
        #expect(try IPv6Address(parsing: "::1").isLoopback)
        #expect(try IPv6Address(parsing: "::ffff:192.0.2.1").isIPv4Mapped)
        #expect(try !IPv6Address(parsing: "::192.0.2.1").isIPv4Mapped)
    }

    @Test func multicastMACIs3333AndTheLow32Bits() throws {
        #expect(CARPWire.defaultIPv6Group.multicastMAC == [0x33, 0x33, 0x00, 0x00, 0x00, 0x12])
        #expect(CARPWire.allNodesGroup.multicastMAC == [0x33, 0x33, 0x00, 0x00, 0x00, 0x01])
        #expect(try IPv6Address(parsing: "ff02::1:ff00:100").multicastMAC == [0x33, 0x33, 0xff, 0x00, 0x01, 0x00])
    }

    @Test func wireGroupsAreTheBSDOnes() {
        #expect(CARPWire.defaultIPv6Group.description == "ff02::12")
        #expect(CARPWire.allNodesGroup.description == "ff02::1")
    }
}

@Suite struct IPAddressTests {
    @Test func parsesEitherFamily() throws {
        #expect(try IPAddress(parsing: "192.0.2.1") == .ipv4(IPv4Address(192, 0, 2, 1)))
        #expect(try IPAddress(parsing: "2001:db8::1") == .ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)))
        #expect(try IPAddress(parsing: "::ffff:192.0.2.1").ipv6?.isIPv4Mapped == true)
        #expect(try IPAddress(parsing: "2001:db8::1").description == "2001:db8::1")
        #expect(try IPAddress(parsing: "192.0.2.1").description == "192.0.2.1")
    }

    @Test(arguments: [
        ("", AddressError.empty), ("192.0.2.1/24", .prefixLength("192.0.2.1/24")),
        ("300.1.1.1", .invalidIPv4("300.1.1.1")),
        ("192.0.2.01", .invalidIPv4("192.0.2.01")), ("eth0", .invalidIPv4("eth0")),
        ("fe80::1%eth0", .zoneIdentifier("fe80::1%eth0")), ("2001:db8::1/128", .prefixLength("2001:db8::1/128")),
    ])
    func refusesBadTextNamingIt(_ text: String, _ error: AddressError) {
        #expect(throws: error) { try IPAddress(parsing: text) }
        #expect(error.description.contains("[\(text)]"))
    }

    @Test func ipv4LinkLocalIsNotSpecial() {
        #expect(!IPAddress.ipv4(IPv4Address(169, 254, 1, 1)).isLinkLocal)
        #expect(IPAddress.ipv4(IPv4Address(224, 0, 0, 18)).isMulticast)
    }
}
