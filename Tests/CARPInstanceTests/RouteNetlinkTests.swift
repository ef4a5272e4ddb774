import CARPCore
import Testing

@testable import CARPInstance

@Suite struct RouteNetlinkTests {
    let host = IPv4Address(192, 0, 2, 1)
    let vip = IPv4Address(192, 0, 2, 100)

    @Test func addressesAddedAndRemovedAreReadFromCapturedDatagrams() {
        #expect(RouteNetlink.messages(in: CapturedNetlink.vipAdded) == [.addressAdded(interfaceIndex: 3, address: vip)])
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.hostAddressRemoved) == [
                .addressRemoved(interfaceIndex: 3, address: host)
            ])
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.vipRemoved) == [.addressRemoved(interfaceIndex: 3, address: vip)])
    }

    @Test func ipv6AddressesAddedAndRemovedAreReadFromCapturedDatagrams() {
        let vip = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.ipv6VipAdded) == [
                .ipv6AddressAdded(interfaceIndex: 3, address: vip)
            ])
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.ipv6VipRemoved) == [
                .ipv6AddressRemoved(interfaceIndex: 3, address: vip)
            ])
    }

    @Test func linkNewsSaysWhetherTheLinkIsRunning() {
        #expect(RouteNetlink.messages(in: CapturedNetlink.veth0Down) == [.link(interfaceIndex: 3, running: false)])
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.peerVeth1NoCarrier) == [.link(interfaceIndex: 2, running: false)])
        // Up but without carrier yet is not running.
        #expect(
            RouteNetlink.messages(in: CapturedNetlink.veth0UpWithoutCarrier) == [
                .link(interfaceIndex: 3, running: false)
            ])
        #expect(RouteNetlink.messages(in: CapturedNetlink.veth0Running) == [.link(interfaceIndex: 3, running: true)])
    }

    @Test func severalMessagesInOneDatagramAreReadInOrder() {
        let datagram = CapturedNetlink.hostAddressRemoved + CapturedNetlink.vipRemoved + CapturedNetlink.veth0Running
        #expect(
            RouteNetlink.messages(in: datagram) == [
                .addressRemoved(interfaceIndex: 3, address: host), .addressRemoved(interfaceIndex: 3, address: vip),
                .link(interfaceIndex: 3, running: true),
            ])
    }

    @Test func anIPv6MessageWithoutA16ByteAddressOrAnotherTypeIsSkipped() {
        var ipv6 = CapturedNetlink.vipRemoved
        ipv6[16] = 10  // AF_INET6, but its addresses are 4 bytes long
        var route = CapturedNetlink.vipRemoved
        route[4] = 24  // RTM_NEWROUTE
        #expect(
            RouteNetlink.messages(in: ipv6 + route + CapturedNetlink.vipAdded) == [
                .addressAdded(interfaceIndex: 3, address: vip)
            ])
    }

    @Test func truncatedOrLyingDatagramsEndTheReadingWithoutACrash() {
        let whole = CapturedNetlink.vipRemoved + CapturedNetlink.vipAdded
        // Every prefix: whole messages are read, a cut one is not.
        for length in 0...whole.count {
            let messages = RouteNetlink.messages(in: Array(whole.prefix(length)))
            #expect(messages.count == (length >= 160 ? 2 : length >= 80 ? 1 : 0), "prefix \(length)")
        }
        // A message length beyond the datagram, or below the header's.
        var tooLong = CapturedNetlink.vipRemoved
        tooLong[0] = 0xFF
        #expect(RouteNetlink.messages(in: tooLong) == [])
        var tooShort = CapturedNetlink.vipRemoved
        tooShort[0] = 4
        #expect(RouteNetlink.messages(in: tooShort + CapturedNetlink.vipAdded) == [])
        // An attribute whose length runs past its message: no address, no message.
        var badAttribute = CapturedNetlink.vipRemoved
        badAttribute[24] = 0xF0
        #expect(RouteNetlink.messages(in: badAttribute) == [])
    }
}
