import CARPCore
import Testing

@testable import UCarpConfiguration

/// Issue 12's command line: `--addr` repeated, `VIP_ADDRESS` with several addresses, IPv6
/// `--srcip`, `--mcast` and `--peer`, and what is refused.
@Suite struct SeveralAddressOptionTests {
    static let base = ["-s", "192.0.2.11", "-v", "7", "-p", "secret"]
    static let ipv6Base = ["-s", "2001:db8::11", "-v", "7", "-p", "secret"]
    static let v4a = IPv4Address(192, 0, 2, 100)
    static let v4b = IPv4Address(192, 0, 2, 101)
    static let v6 = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)

    func settings(_ arguments: [String], files: [String: String] = [:]) throws -> Settings {
        try runSettings(arguments, files: files)
    }

    func rejection(_ arguments: [String], files: [String: String] = [:]) -> String? {
        do {
            _ = try runSettings(arguments, files: files)
            return nil
        } catch let error as SettingsError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func aRepeatedAddrGivesEveryAddressInTheOrderGiven() throws {
        let settings = try settings(Self.base + ["-a", "192.0.2.101", "--addr=2001:DB8::100", "-a", "192.0.2.100"])
        #expect(settings.virtualAddresses == [.ipv4(Self.v4b), .ipv6(Self.v6), .ipv4(Self.v4a)])
        #expect(settings.virtualAddressArguments == ["192.0.2.101", "2001:DB8::100", "192.0.2.100"])
        #expect(settings.virtualAddressArgument == "192.0.2.101")
        #expect(settings.virtualAddressList == "192.0.2.101 2001:DB8::100 192.0.2.100")
        #expect(settings.ipv4VirtualAddresses == [Self.v4b, Self.v4a])
        #expect(settings.ipv6VirtualAddresses == [Self.v6])
    }

    @Test func oneAddressIsUcarpsSettings() throws {
        let settings = try settings(Self.base + ["-a", "192.0.2.100"])
        #expect(settings.virtualAddresses == [.ipv4(Self.v4a)])
        #expect(settings.group == .ipv4(CARPWire.defaultGroup))
        #expect(settings.sourceAddress == .ipv4(IPv4Address(192, 0, 2, 11)))
    }

    @Test func vipAddressHoldsSeveralAddressesSeparatedBySpaces() throws {
        let files = ["/etc/ucarp/vip-007.conf": "VIP_ADDRESS=\"192.0.2.100  2001:db8::100\t192.0.2.101\"\n"]
        let settings = try settings(Self.base + ["--config=/etc/ucarp/vip-007.conf"], files: files)
        #expect(settings.virtualAddresses == [.ipv4(Self.v4a), .ipv6(Self.v6), .ipv4(Self.v4b)])
    }

    @Test func theCommandLinesAddrReplacesTheFilesAddresses() throws {
        let files = ["/etc/ucarp/vip-007.conf": "VIP_ADDRESS=\"192.0.2.100 2001:db8::100\"\n"]
        let settings = try settings(
            Self.base + ["--config=/etc/ucarp/vip-007.conf", "-a", "192.0.2.101", "-a", "192.0.2.100"], files: files)
        #expect(settings.virtualAddresses == [.ipv4(Self.v4b), .ipv4(Self.v4a)])
    }

    @Test func anAddressGivenTwiceIsRefusedInAnySpelling() {
        #expect(
            rejection(Self.base + ["-a", "192.0.2.100", "-a", "192.0.2.100"])
                == "--addr '192.0.2.100' is given twice: list each virtual address once")
        #expect(
            rejection(Self.base + ["-a", "2001:db8::100", "-a", "2001:db8:0:0::100"])
                == "--addr '2001:db8:0:0::100' is given twice: list each virtual address once")
        let files = ["/etc/ucarp/vip-007.conf": "VIP_ADDRESS=\"192.0.2.100 192.0.2.100\"\n"]
        #expect(
            rejection(Self.base + ["--config=/etc/ucarp/vip-007.conf"], files: files)
                == "/etc/ucarp/vip-007.conf:1: --addr '192.0.2.100' is given twice: list each virtual address once")
    }

    @Test func linkLocalAndMulticastVirtualAddressesAreRefused() {
        #expect(
            rejection(Self.base + ["-a", "fe80::1"])
                == "--addr 'fe80::1' cannot be a virtual address: it is link-local (fe80::/10), "
                + "valid on one link only; every interface has its own")
        #expect(
            rejection(Self.base + ["-a", "224.0.0.18"])
                == "--addr '224.0.0.18' cannot be a virtual address: it is a multicast address")
        #expect(
            rejection(Self.base + ["-a", "ff02::1"])
                == "--addr 'ff02::1' cannot be a virtual address: it is a multicast address")
        #expect(
            rejection(Self.base + ["-a", "::ffff:192.0.2.100"])
                == "--addr '::ffff:192.0.2.100' cannot be a virtual address: it is an IPv4-mapped IPv6 address "
                + "(::ffff:0:0/96): give the IPv4 address itself")
        #expect(rejection(Self.base + ["-a", "::"]) == "--addr :: is not usable: give this host's real address")
    }

    @Test func atMost255Addresses() throws {
        let addresses = (0..<256).map { "2001:db8::\(String($0 + 1, radix: 16))" }
        let accepted = try settings(Self.base + addresses.prefix(255).flatMap { ["-a", $0] })
        #expect(accepted.virtualAddresses.count == Settings.maximumVirtualAddresses)
        #expect(
            rejection(Self.base + addresses.flatMap { ["-a", $0] })
                == "256 virtual addresses: one vhid takes at most 255")
    }

    @Test func aBadIPv6AddressIsNamedWithWhatIsWrong() {
        #expect(
            rejection(Self.base + ["-a", "2001:db8::1::2"])
                == "invalid --addr address: Invalid IPv6 address [2001:db8::1::2]: '::' may appear only once")
        #expect(
            rejection(Self.base + ["-a", "192.0.2.1000"])
                == "invalid --addr address '192.0.2.1000': expected a dotted-quad IPv4 address such as 192.0.2.1")
    }

    @Test func anIPv6SourceAdvertisesToFf02_12ByDefault() throws {
        let settings = try settings(Self.ipv6Base + ["-a", "2001:db8::100", "--peer=fe80::12"])
        #expect(settings.sourceAddress == .ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)))
        #expect(settings.group == .ipv6(CARPWire.defaultIPv6Group))
        #expect(settings.peers == [.ipv6(IPv6Address(0xfe80, 0, 0, 0, 0, 0, 0, 0x12))])
        let group = try self.settings(Self.ipv6Base + ["-a", "192.0.2.100", "--mcast=ff02::112"]).group
        #expect(group == .ipv6(IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 0x112)))
    }

    @Test func mcastAndPeerOfTheOtherFamilyAreRefused() {
        #expect(
            rejection(Self.ipv6Base + ["-a", "2001:db8::100", "--mcast=224.0.0.18"])
                == "--mcast '224.0.0.18' is not of the family of --srcip 2001:db8::11: "
                + "an instance advertises over IPv4 or over IPv6, as its --srcip")
        #expect(
            rejection(Self.base + ["-a", "192.0.2.100", "--mcast=ff02::12"])
                == "--mcast 'ff02::12' is not of the family of --srcip 192.0.2.11: "
                + "an instance advertises over IPv4 or over IPv6, as its --srcip")
        #expect(
            rejection(Self.base + ["-a", "192.0.2.100", "--peer=2001:db8::12"])
                == "--peer '2001:db8::12' is not of the family of --srcip 192.0.2.11: "
                + "an instance advertises over IPv4 or over IPv6, as its --srcip")
    }

    @Test func anIPv6GroupMustBeMulticastAndASourceUnicast() {
        #expect(
            rejection(Self.ipv6Base + ["-a", "2001:db8::100", "--mcast=2001:db8::12"])
                == "--mcast address '2001:db8::12' is not an IPv6 multicast group: allowed are ff00::/8 (default ff02::12)"
        )
        #expect(
            rejection(["-s", "ff02::12", "-v", "7", "-p", "secret", "-a", "2001:db8::100"])
                == "--srcip 'ff02::12' is a multicast address: give an IPv6 address of the interface")
        #expect(
            rejection(Self.ipv6Base + ["-a", "2001:db8::100", "--peer=2001:db8::11"])
                == "--peer 2001:db8::11 is this host's own --srcip: list the other hosts")
    }
}
