import CARPCore
import Testing

@testable import CARPDaemon

/// The IPv6 capture filter: our vhid's adverts from others (to the group, or to us with
/// `--peer`), nothing of another vhid, protocol or family, nor our own.
struct PacketCaptureIPv6FilterTests {
    let us = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)
    let peer = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x12)

    func advert(vhid: UInt8, from source: IPv6Address) -> [UInt8] {
        IPv6AdvertisementCodec(
            vhid: vhid, sourceAddress: source,
            authenticator: Authenticator(
                password: Array("pw".utf8), vhid: vhid,
                virtualAddresses: [.ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100))])
        ).frame(advbase: 1, advskew: 0, counter: 7)
    }

    func accepts(_ frame: [UInt8], _ expression: String) throws -> Bool {
        try pcapFilterAccepts(frame, expression)
    }

    func filter(vhid: UInt8, unicast: Bool = false) -> String {
        PacketCapture.filter(vhid: vhid, sourceAddress: IPAddress.ipv6(us), unicast: unicast)
    }

    @Test func passesOurVhidsAdvertsFromAPeerAndNoOtherVhid() throws {
        #expect(try accepts(advert(vhid: 7, from: peer), filter(vhid: 7)))
        #expect(try accepts(advert(vhid: 255, from: peer), filter(vhid: 255)))
        #expect(try !accepts(advert(vhid: 8, from: peer), filter(vhid: 7)))
    }

    @Test func dropsOurOwnAdvertsAndOtherNextHeaders() throws {
        #expect(try !accepts(advert(vhid: 7, from: us), filter(vhid: 7)))
        var udp = advert(vhid: 7, from: peer)
        udp[20] = 17
        #expect(try !accepts(udp, filter(vhid: 7)))
    }

    @Test func dropsIPv4Adverts() throws {
        let ipv4 = IPv4AdvertisementCodec(
            vhid: 7, sourceAddress: IPv4Address(192, 0, 2, 12), group: CARPWire.defaultGroup, broadcast: false,
            authenticator: Authenticator(password: Array("pw".utf8), vhid: 7, virtualAddress: IPv4Address(192, 0, 2, 1))
        ).frame(advbase: 1, advskew: 0, counter: 1, ipIdentification: 1)
        #expect(try !accepts(ipv4, filter(vhid: 7)))
    }

    @Test func withPeersOnlyWhatIsAddressedToUs() throws {
        var toUs = advert(vhid: 7, from: peer)
        toUs.replaceSubrange(38..<54, with: us.octets)
        #expect(try accepts(toUs, filter(vhid: 7, unicast: true)))
        #expect(try !accepts(advert(vhid: 7, from: peer), filter(vhid: 7, unicast: true)))
    }

    @Test func anIPv4SourceKeepsTheIPv4Filter() {
        let source = IPv4Address(192, 0, 2, 11)
        #expect(
            PacketCapture.filter(vhid: 7, sourceAddress: IPAddress.ipv4(source))
                == PacketCapture.filter(vhid: 7, sourceAddress: source))
    }
}
