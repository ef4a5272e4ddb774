import Testing

@testable import CARPCore

/// The election over IPv6 (issue 12): equal intervals are settled by the sources' bytes, and
/// both families' codecs feed the machine one kind of advertisement.
@Suite struct IPv6ElectionTests {
    static let low = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)
    static let high = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x12)
    /// Higher than ``high`` in its first byte, lower in its last: `memcmp` decides by the first.
    static let linkLocal = IPv6Address(0xfe80, 0, 0, 0, 0, 0, 0, 0x1)

    func ipv6Master(source: IPv6Address) throws -> (CARPStateMachine, MonotonicInstant) {
        try master(
            .init(
                vhid: 1, advbase: 1, advskew: 0, deadRatio: 3, preempt: false, neutral: false,
                sourceAddress: .ipv6(source), initialCounter: 1000))
    }

    func advert(from source: IPv6Address, counter: UInt64 = 1) -> ReceivedAdvertisement {
        ReceivedAdvertisement(source: source, advbase: 1, advskew: 0, counter: counter)
    }

    @Test func anEqualMasterWithTheLowerAddressStays() throws {
        var (machine, since) = try ipv6Master(source: Self.low)
        let actions = machine.received(advert(from: Self.high), at: since + .seconds(1))
        #expect(withoutLogs(actions) == [.announceAddresses])
        #expect(machine.role == .master)
    }

    @Test func anEqualMasterWithTheHigherAddressStepsDown() throws {
        var (machine, since) = try ipv6Master(source: Self.high)
        let actions = machine.received(advert(from: Self.low), at: since + .seconds(1))
        #expect(
            withoutLogs(actions) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true),
            ])
    }

    @Test func ipv6SourcesCompareByTheirBytesFromTheFirst() {
        #expect(IPAddress.ipv6(Self.low).tieBreakKey < IPAddress.ipv6(Self.high).tieBreakKey)
        #expect(IPAddress.ipv6(Self.high).tieBreakKey < IPAddress.ipv6(Self.linkLocal).tieBreakKey)
    }

    @Test func ipv4SourcesKeepUcarpsLittleEndianKey() {
        // As ucarp on x86: the last octet weighs most.
        let a = IPAddress.ipv4(IPv4Address(10, 0, 0, 12))
        let b = IPAddress.ipv4(IPv4Address(192, 0, 2, 11))
        #expect(b.tieBreakKey < a.tieBreakKey)
    }
}

/// ``AnyAdvertisementCodec``: the family of `--srcip` picks the codec, and a mixed set of
/// families is refused.
@Suite struct AnyAdvertisementCodecTests {
    static let authenticator = Authenticator(
        password: Array("love".utf8), vhid: 1,
        virtualAddresses: [.ipv4(IPv4Address(192, 0, 2, 100)), .ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100))])
    static let v6a = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)
    static let v6b = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x12)

    func codec(source: IPAddress, group: IPAddress, peers: [IPAddress] = []) -> AnyAdvertisementCodec? {
        AnyAdvertisementCodec(
            vhid: 1, sourceAddress: source, group: group, broadcast: false, peers: peers,
            authenticator: Self.authenticator)
    }

    @Test func anIPv6SourceSendsIPv6FramesThatAnIPv6PeerAccepts() throws {
        let sender = try #require(codec(source: .ipv6(Self.v6a), group: .ipv6(CARPWire.defaultIPv6Group)))
        let receiver = try #require(codec(source: .ipv6(Self.v6b), group: .ipv6(CARPWire.defaultIPv6Group)))
        let frame = sender.frame(advbase: 1, advskew: 20, counter: 77, ipIdentification: 0)
        #expect(frame.count == CARPWire.ipv6FrameLength)
        #expect(
            receiver.decode(frame: frame)
                == .accepted(ReceivedAdvertisement(source: Self.v6a, advbase: 1, advskew: 20, counter: 77)))
        #expect(sender.header(advbase: 1, advskew: 20, counter: 77) == Array(frame[54...]))
    }

    @Test func anIPv4SourceSendsUcarpsFrames() throws {
        let source = IPv4Address(192, 0, 2, 11)
        let any = try #require(codec(source: .ipv4(source), group: .ipv4(CARPWire.defaultGroup)))
        let ipv4 = IPv4AdvertisementCodec(
            vhid: 1, sourceAddress: source, group: CARPWire.defaultGroup, broadcast: false,
            authenticator: Self.authenticator)
        #expect(
            any.frame(advbase: 1, advskew: 0, counter: 5, ipIdentification: 9)
                == ipv4.frame(advbase: 1, advskew: 0, counter: 5, ipIdentification: 9))
    }

    @Test func anIPv4FrameIsIgnoredByAnIPv6Receiver() throws {
        let ipv4 = try #require(codec(source: .ipv4(IPv4Address(192, 0, 2, 11)), group: .ipv4(CARPWire.defaultGroup)))
        let ipv6 = try #require(codec(source: .ipv6(Self.v6b), group: .ipv6(CARPWire.defaultIPv6Group)))
        #expect(ipv6.decode(frame: ipv4.frame(advbase: 1, advskew: 0, counter: 5, ipIdentification: 9)) == .ignored)
    }

    @Test func familiesThatDisagreeMakeNoCodec() {
        #expect(codec(source: .ipv6(Self.v6a), group: .ipv4(CARPWire.defaultGroup)) == nil)
        #expect(codec(source: .ipv4(IPv4Address(192, 0, 2, 11)), group: .ipv6(CARPWire.defaultIPv6Group)) == nil)
        #expect(
            codec(
                source: .ipv6(Self.v6a), group: .ipv6(CARPWire.defaultIPv6Group),
                peers: [.ipv6(Self.v6b), .ipv4(IPv4Address(192, 0, 2, 12))]) == nil)
    }
}
