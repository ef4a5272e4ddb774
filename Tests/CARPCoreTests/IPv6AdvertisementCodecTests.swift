import Testing

@testable import CARPCore

@Suite struct IPv6AdvertisementCodecTests {
    static let h1 = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)
    static let h2 = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x12)
    static let stranger = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x13)
    static let vip100 = IPAddress.ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100))

    static func love(source: IPv6Address, addresses: [IPAddress] = [vip100], password: String = "love")
        -> IPv6AdvertisementCodec
    {
        IPv6AdvertisementCodec(
            vhid: 1, sourceAddress: source,
            authenticator: Authenticator(password: Array(password.utf8), vhid: 1, virtualAddresses: addresses))
    }

    static func secret(source: IPv6Address) -> IPv6AdvertisementCodec {
        IPv6AdvertisementCodec(
            vhid: 42, sourceAddress: source,
            authenticator: Authenticator(
                password: Array("s3cret-pass".utf8), vhid: 42,
                virtualAddresses: [
                    .ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x200)), .ipv4(IPv4Address(192, 0, 2, 200)),
                ]))
    }

    static func unicast(source: IPv6Address, peers: [IPv6Address]) -> IPv6AdvertisementCodec {
        var codec = IPv6AdvertisementCodec(
            vhid: 9, sourceAddress: source,
            authenticator: Authenticator(
                password: Array("pw".utf8), vhid: 9,
                virtualAddresses: [.ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x900))]))
        codec.peers = peers
        return codec
    }

    let receiver = Self.love(source: Self.h2)
    let valid = HandMadeIPv6Frames.loveVhid1
    let accepted = IPv6AdvertisementCodec.Outcome.accepted(
        ReceivedAdvertisement(source: h1, advbase: 1, advskew: 0, counter: 0x12d2_83c3_9183_0d24))

    // MARK: Encoding

    @Test func frameIsTheHandMadeOne() {
        let frame = Self.love(source: Self.h1).frame(advbase: 1, advskew: 0, counter: 0x12d2_83c3_9183_0d24)
        #expect(frame.count == CARPWire.ipv6FrameLength)
        #expect(hexString(frame) == hexString(HandMadeIPv6Frames.loveVhid1))
    }

    @Test func frameOfAMixedAddressSetIsTheHandMadeOne() {
        let frame = Self.secret(source: Self.h2).frame(advbase: 3, advskew: 100, counter: 0x1_0000_0002)
        #expect(hexString(frame) == hexString(HandMadeIPv6Frames.secretVhid42Mixed))
    }

    @Test func unicastHeaderIsTheCARPPartOfTheHandMadeUnicastFrame() {
        let codec = Self.unicast(source: Self.h2, peers: [Self.h1])
        let header = codec.header(advbase: 1, advskew: 7, counter: 42)
        #expect(hexString(header) == hexString(HandMadeIPv6Frames.unicastVhid9[IPv6Offset.carp...]))
    }

    @Test func headerIsTheFramesCARPPart() {
        let codec = Self.secret(source: Self.h2)
        let frame = codec.frame(advbase: 2, advskew: 3, counter: 5)
        #expect(codec.header(advbase: 2, advskew: 3, counter: 5) == Array(frame[IPv6Offset.carp...]))
    }

    @Test func theCARPHeaderIsTheOneIPv4AdvertsCarry() {
        // The same virtual host over either family: only the digest's address set matters.
        let authenticator = Authenticator(
            password: Array("pw".utf8), vhid: 7, virtualAddress: IPv4Address(192, 0, 2, 1))
        let v4 = IPv4AdvertisementCodec(
            vhid: 7, sourceAddress: IPv4Address(192, 0, 2, 11), group: CARPWire.defaultGroup, broadcast: false,
            authenticator: authenticator)
        let v6 = IPv6AdvertisementCodec(vhid: 7, sourceAddress: Self.h1, authenticator: authenticator)
        #expect(v4.header(advbase: 1, advskew: 9, counter: 77) == v6.header(advbase: 1, advskew: 9, counter: 77))
    }

    @Test func frameGoesFromTheVirtualMACToTheGroupWithHopLimit255() throws {
        let group = try IPv6Address(parsing: "ff02::1:2:3")
        let codec = IPv6AdvertisementCodec(
            vhid: 200, sourceAddress: Self.h1, group: group,
            authenticator: Authenticator(password: Array("pw".utf8), vhid: 200, virtualAddresses: [Self.vip100]))
        let frame = codec.frame(advbase: 1, advskew: 0, counter: 7)
        #expect(Array(frame[0..<6]) == [0x33, 0x33, 0x00, 0x02, 0x00, 0x03])
        #expect(Array(frame[6..<12]) == [0x00, 0x00, 0x5E, 0x00, 0x00, 200])
        #expect(Array(frame[12..<14]) == [0x86, 0xDD])
        #expect(Array(frame[IPv6Offset.ip..<IPv6Offset.ip + 4]) == [0x6E, 0x00, 0x00, 0x00])
        #expect(Array(frame[IPv6Offset.payloadLength..<IPv6Offset.payloadLength + 2]) == [0, 36])
        #expect(frame[IPv6Offset.nextHeader] == 112)
        #expect(frame[IPv6Offset.hopLimit] == 255)
        #expect(IPv6Address(octets: frame[IPv6Offset.source..<IPv6Offset.source + 16]) == Self.h1)
        #expect(IPv6Address(octets: frame[IPv6Offset.destination..<IPv6Offset.destination + 16]) == group)
        #expect(internetChecksum(frame[IPv6Offset.carp...]) == 0)
    }

    @Test func broadcastChangesOnlyTheEthernetDestination() {
        let multicast = Self.love(source: Self.h1)
        var broadcast = multicast
        broadcast.broadcast = true
        let a = multicast.frame(advbase: 1, advskew: 0, counter: 1)
        let b = broadcast.frame(advbase: 1, advskew: 0, counter: 1)
        #expect(Array(b[0..<6]) == CARPWire.broadcastMAC)
        #expect(Array(a[6...]) == Array(b[6...]))
    }

    /// Frames are patched copies of one template: changing the codec rebuilds it, and no
    /// frame's fields remain in the next.
    @Test func changingTheCodecRebuildsTheTemplate() {
        var codec = Self.love(source: Self.h1)
        let first = codec.frame(advbase: 9, advskew: 200, counter: .max)
        #expect(codec.frame(advbase: 1, advskew: 0, counter: 0x12d2_83c3_9183_0d24) == valid)
        codec.sourceAddress = Self.stranger
        let moved = codec.frame(advbase: 9, advskew: 200, counter: .max)
        #expect(IPv6Address(octets: moved[IPv6Offset.source..<IPv6Offset.source + 16]) == Self.stranger)
        #expect(Array(moved[IPv6Offset.carp...]) == Array(first[IPv6Offset.carp...]))
        codec.vhid = 2
        let renumbered = codec.frame(advbase: 9, advskew: 200, counter: .max)
        #expect(renumbered[IPv6Offset.carpVHID] == 2 && renumbered[11] == 2)
    }

    // MARK: Decoding

    @Test func acceptsTheHandMadeFrames() {
        #expect(receiver.decode(frame: valid) == accepted)
        #expect(
            Self.secret(source: Self.h1).decode(frame: HandMadeIPv6Frames.secretVhid42Mixed)
                == .accepted(.init(source: Self.h2, advbase: 3, advskew: 100, counter: 0x1_0000_0002)))
        let advert = ReceivedAdvertisement(source: Self.h2, advbase: 3, advskew: 100, counter: 1)
        #expect(advert.interval == AdvertisementInterval(base: 3, skew: 100))
    }

    @Test func acceptsSlicesAndPaddedFrames() {
        let buffer = [0xAA] + valid + [0, 0, 0, 0]
        #expect(receiver.decode(frame: buffer[1...]) == accepted)
        #expect(receiver.decode(frame: valid + [0, 0]) == accepted)
    }

    @Test func ignoresOurOwnFramesAndWhatIsNotCARPOverIPv6() throws {
        #expect(Self.love(source: Self.h1).decode(frame: valid) == .ignored)
        // ucarp's IPv4 adverts, a neighbour advertisement (next header 58), other ethertypes.
        #expect(receiver.decode(frame: CapturedFrames.loveVhid1Advert1) == .ignored)
        let na = NeighbourAdvertisement.frame(interfaceMAC: [2, 0, 0, 0, 0, 0x11], virtualAddress: Self.h1)
        #expect(receiver.decode(frame: na) == .ignored)
        #expect(receiver.decode(frame: valid.modifiedIPv6 { $0[12] = 0x88 }) == .ignored)
        #expect(receiver.decode(frame: valid.modifiedIPv6 { $0[IPv6Offset.ip] = 0x4E }) == .ignored)
        // A hop-by-hop header before CARP is not something a CARP sender writes.
        #expect(receiver.decode(frame: valid.modifiedIPv6 { $0[IPv6Offset.nextHeader] = 0 }) == .ignored)
        #expect(receiver.decode(frame: Array(valid.prefix(IPv6Offset.carp - 1))) == .ignored)
        #expect(receiver.decode(frame: [UInt8]()) == .ignored)
    }

    @Test func theIPv4CodecIgnoresIPv6Frames() {
        let ipv4 = CapturedAdvert.all[0].receiverCodec()
        #expect(ipv4.decode(frame: valid) == .ignored)
        #expect(ipv4.decode(frame: HandMadeIPv6Frames.unicastVhid9) == .ignored)
    }

    @Test(arguments: [0, 1, 64, 254] as [UInt8])
    func dropsAHopLimitOtherThan255(_ hopLimit: UInt8) {
        let frame = valid.modifiedIPv6 { $0[IPv6Offset.hopLimit] = hopLimit }
        #expect(receiver.decode(frame: frame) == .dropped(.badHopLimit(hopLimit)))
        #expect(AdvertisementError.badHopLimit(hopLimit).reason == .badTTL)
        #expect(AdvertisementError.badHopLimit(hopLimit).description.contains("[\(hopLimit)]"))
    }

    @Test func checksTheHopLimitBeforeTheLength() {
        let frame = Array(valid.modifiedIPv6 { $0[IPv6Offset.hopLimit] = 1 }.prefix(60))
        #expect(receiver.decode(frame: frame) == .dropped(.badHopLimit(1)))
    }

    @Test func dropsTruncatedAdverts() {
        #expect(receiver.decode(frame: Array(valid.prefix(89))) == .dropped(.truncatedIPv6(payloadLength: 35)))
        #expect(
            receiver.decode(frame: Array(valid.prefix(IPv6Offset.carp))) == .dropped(.truncatedIPv6(payloadLength: 0)))
        let short = valid.modifiedIPv6 { $0[IPv6Offset.payloadLength + 1] = 20 }
        #expect(receiver.decode(frame: short) == .dropped(.truncatedIPv6(payloadLength: 20)))
        #expect(AdvertisementError.truncatedIPv6(payloadLength: 20).reason == .truncated)
        #expect(!AdvertisementError.truncatedIPv6(payloadLength: 20).isWarning)
    }

    @Test func dropsAdvertsWithMoreThanTheHeader() {
        let long = valid.modifiedIPv6 { $0[IPv6Offset.payloadLength + 1] = 40 } + [0, 0, 0, 0]
        #expect(receiver.decode(frame: long) == .dropped(.oversizedIPv6(payloadLength: 40)))
        #expect(AdvertisementError.oversizedIPv6(payloadLength: 40).reason == .oversized)
    }

    @Test func checksTheChecksumBeforeVersionAndVHID() {
        let noFix = valid.modifiedIPv6(fixingChecksum: false) {
            $0[IPv6Offset.carp] = 0x31
            $0[IPv6Offset.carpVHID] = 2
        }
        #expect(receiver.decode(frame: noFix) == .dropped(.badChecksum))
        let flipped = valid.modifiedIPv6(fixingChecksum: false) { $0[IPv6Offset.carpDigest] ^= 1 }
        #expect(receiver.decode(frame: flipped) == .dropped(.badChecksum))
    }

    @Test func checksumIsOverTheCARPHeaderAloneWithoutAPseudoHeader() {
        // Another source or destination leaves the CARP checksum valid (no pseudo-header).
        var moved = valid
        moved.write(Self.stranger, at: IPv6Offset.source)
        #expect(internetChecksum(moved[IPv6Offset.carp...]) == 0)
        #expect(
            receiver.decode(frame: moved)
                == .accepted(.init(source: Self.stranger, advbase: 1, advskew: 0, counter: 0x12d2_83c3_9183_0d24)))
    }

    @Test func checksVersionThenTypeThenVHID() {
        #expect(receiver.decode(frame: valid.modifiedIPv6 { $0[IPv6Offset.carp] = 0x31 }) == .dropped(.badVersion(3)))
        #expect(
            receiver.decode(
                frame: valid.modifiedIPv6 {
                    $0[IPv6Offset.carp] = 0x31
                    $0[IPv6Offset.carpVHID] = 2
                }) == .dropped(.badVersion(3)))
        #expect(receiver.decode(frame: valid.modifiedIPv6 { $0[IPv6Offset.carp] = 0x22 }) == .dropped(.badType(2)))
        let otherVHID = valid.modifiedIPv6 {
            $0[IPv6Offset.carpVHID] = 2
            $0.write(Self.stranger, at: IPv6Offset.destination)
        }
        #expect(receiver.decode(frame: otherVHID) == .dropped(.otherVHID(2)))
    }

    @Test func dropsAdvertsToAnotherGroup() throws {
        let other = try IPv6Address(parsing: "ff02::13")
        let frame = valid.modifiedIPv6 { $0.write(other, at: IPv6Offset.destination) }
        #expect(receiver.decode(frame: frame) == .dropped(.otherIPv6Destination(other)))
        #expect(AdvertisementError.otherIPv6Destination(other).reason == .otherDestination)
        #expect(AdvertisementError.otherIPv6Destination(other).description.contains("ff02::13"))
        var elsewhere = receiver
        elsewhere.group = other
        #expect(elsewhere.decode(frame: frame) == accepted)
    }

    @Test func dropsAdvertsOfAnotherAddressSetOrPassword() {
        for codec in [
            Self.love(source: Self.h2, addresses: [Self.vip100, .ipv4(IPv4Address(192, 0, 2, 100))]),
            Self.love(source: Self.h2, addresses: [.ipv6(Self.stranger)]),
            Self.love(source: Self.h2, password: "Love"),
        ] {
            guard case .dropped(let error) = codec.decode(frame: valid) else {
                Issue.record("accepted a foreign digest")
                continue
            }
            guard case .badDigestOfAddressSet = error else {
                Issue.record("\(error)")
                continue
            }
            #expect(error.reason == .badDigest)
            #expect(error.description.contains("may differ"))
        }
    }

    @Test func refusesEveryTruncationAndEveryFlippedDigestBit() {
        for length in 0..<valid.count {
            #expect(receiver.decode(frame: Array(valid.prefix(length))) != accepted, "length \(length)")
        }
        for index in IPv6Offset.carpDigest..<valid.count {
            let frame = valid.modifiedIPv6 { $0[index] ^= 0x80 }
            guard case .dropped(.badDigestOfAddressSet) = receiver.decode(frame: frame) else {
                Issue.record("byte \(index)")
                continue
            }
        }
    }

    // MARK: Unicast (--peer)

    @Test func unicastAcceptsAListedPeerAddressingUs() {
        let codec = Self.unicast(source: Self.h1, peers: [Self.h2])
        #expect(
            codec.decode(frame: HandMadeIPv6Frames.unicastVhid9)
                == .accepted(.init(source: Self.h2, advbase: 1, advskew: 7, counter: 42)))
    }

    @Test func unicastDropsAnUnlistedSender() {
        let codec = Self.unicast(source: Self.h1, peers: [Self.stranger])
        #expect(codec.decode(frame: HandMadeIPv6Frames.unicastVhid9) == .dropped(.unknownIPv6Peer(Self.h2)))
        #expect(AdvertisementError.unknownIPv6Peer(Self.h2).reason == .unknownPeer)
        #expect(AdvertisementError.unknownIPv6Peer(Self.h2).description.contains("2001:db8::12"))
    }

    @Test func dropsMulticastInUnicastModeAndUnicastInMulticastMode() {
        let multicastFrame = HandMadeIPv6Frames.unicastVhid9.modifiedIPv6 {
            $0.write(CARPWire.defaultIPv6Group, at: IPv6Offset.destination)
        }
        #expect(
            Self.unicast(source: Self.h1, peers: [Self.h2]).decode(frame: multicastFrame)
                == .dropped(.otherIPv6Destination(CARPWire.defaultIPv6Group)))
        #expect(
            Self.unicast(source: Self.h1, peers: []).decode(frame: HandMadeIPv6Frames.unicastVhid9)
                == .dropped(.otherIPv6Destination(Self.h1)))
    }
}
