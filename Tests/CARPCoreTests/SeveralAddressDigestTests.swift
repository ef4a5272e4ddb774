import Testing

@testable import CARPCore

/// The digest of a virtual host with several addresses, as FreeBSD and OpenBSD compute it.
///
/// The known answers were derived without our code: each message was assembled by hand from
/// the BSD rule (version, type, vhid, IPv4 addresses ascending by numeric value, IPv6
/// addresses ascending by their bytes with link-local ones left out, each address once, the
/// counter big-endian), with python3's `ipaddress` and `struct`, then signed with
/// `hmac.new(password, bytes.fromhex(message), hashlib.sha1).hexdigest()`.
@Suite struct SeveralAddressDigestTests {
    struct Vector: Sendable, CustomStringConvertible {
        var name: String
        var password: String
        var vhid: UInt8
        var addresses: [String]
        var counter: UInt64
        /// Without the counter.
        var messagePrefix: String
        var digest: String
        var description: String { name }
    }

    static let vectors: [Vector] = [
        // ucarp's own known answer: one IPv4 address is ucarp's message.
        Vector(
            name: "one IPv4 address", password: "love", vhid: 1, addresses: ["10.0.0.100"], counter: 1,
            messagePrefix: "0201010a000064", digest: "a57228fe58cacbeb3eb36032ecbcaaa46e4f91fb"),
        // Numeric order (10.0.0.200 first) is not the order of the in-memory s_addr on a
        // little-endian machine (192.0.2.1 would come first); the repeated address counts once.
        Vector(
            name: "two IPv4 addresses, one repeated", password: "love", vhid: 1,
            addresses: ["192.0.2.1", "10.0.0.200", "192.0.2.1"], counter: 1,
            messagePrefix: "0201010a0000c8c0000201", digest: "3988b904281471e1a9acfcaa748b0aa36ae8c8fc"),
        // IPv4 first, then IPv6 by bytes (::2a before ::100); fe80::1 left out; ::100 once.
        Vector(
            name: "IPv4 and IPv6 with a link-local", password: "s3cret-pass", vhid: 42,
            addresses: [
                "2001:db8::100", "192.0.2.200", "fe80::1", "198.51.100.7", "2001:db8::2a", "2001:db8::100",
            ],
            counter: 0x0102_0304_0506_0708,
            messagePrefix: "02012a" + "c00002c8" + "c6336407" + "20010db800000000000000000000002a"
                + "20010db8000000000000000000000100",
            digest: "a48740d0894a2c7aa6838a9c193c39f4877e5b1a"),
        Vector(
            name: "IPv6 only", password: "pw", vhid: 255, addresses: ["2001:db8:0:1::5", "2001:db8::ffff", "fd00::1"],
            counter: .max,
            messagePrefix: "0201ff" + "20010db800000000000000000000ffff" + "20010db8000000010000000000000005"
                + "fd000000000000000000000000000001",
            digest: "e4e689f08aca9e3f2960dc7efaa561eb4f12f0f1"),
    ]

    func authenticator(_ vector: Vector) throws -> Authenticator {
        Authenticator(
            password: Array(vector.password.utf8), vhid: vector.vhid,
            virtualAddresses: try vector.addresses.map { try IPAddress(parsing: $0) })
    }

    @Test(arguments: vectors)
    func messageIsTheBSDOne(_ vector: Vector) throws {
        let addresses = try vector.addresses.map { try IPAddress(parsing: $0) }
        #expect(
            hexString(Authenticator.messagePrefix(vhid: vector.vhid, virtualAddresses: addresses))
                == vector.messagePrefix)
    }

    @Test(arguments: vectors)
    func digestIsTheKnownAnswer(_ vector: Vector) throws {
        let authenticator = try authenticator(vector)
        #expect(hexString(authenticator.digest(counter: vector.counter)) == vector.digest)
        #expect(authenticator.isValid(digest: authenticator.digest(counter: vector.counter), counter: vector.counter))
    }

    @Test(arguments: vectors)
    func orderOfTheAddressesGivenDoesNotMatter(_ vector: Vector) throws {
        let reversed = Vector(
            name: vector.name, password: vector.password, vhid: vector.vhid, addresses: vector.addresses.reversed(),
            counter: vector.counter, messagePrefix: vector.messagePrefix, digest: vector.digest)
        #expect(try authenticator(reversed).digest(counter: 7) == authenticator(vector).digest(counter: 7))
    }

    @Test func oneIPv4AddressSignsExactlyAsUcarp() {
        let vip = IPv4Address(192, 0, 2, 100)
        let single = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: vip)
        let list = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddresses: [.ipv4(vip)])
        for captured in CapturedAdvert.all where captured.virtualAddress == vip {
            #expect(list.digest(counter: captured.counter) == Array(captured.frame[Offset.carpDigest..<70]))
            #expect(list.digest(counter: captured.counter) == single.digest(counter: captured.counter))
        }
        #expect(single.signsLikeUcarp && list.signsLikeUcarp)
        #expect(
            Authenticator.messagePrefix(vhid: 1, virtualAddresses: [.ipv4(vip)])
                == Authenticator.messagePrefix(vhid: 1, virtualAddress: vip))
    }

    @Test func anotherAddressSetIsAnotherDigest() throws {
        let v4 = IPAddress.ipv4(IPv4Address(192, 0, 2, 100))
        let v6 = IPAddress.ipv6(try IPv6Address(parsing: "2001:db8::100"))
        let other6 = IPAddress.ipv6(try IPv6Address(parsing: "2001:db8::101"))
        func digest(_ addresses: [IPAddress]) -> [UInt8] {
            Authenticator(password: Array("love".utf8), vhid: 1, virtualAddresses: addresses).digest(counter: 1)
        }
        let sets: [[IPAddress]] = [[v4], [v6], [v4, v6], [v4, other6], [v6, other6], [v4, v6, other6], []]
        let digests = sets.map(digest)
        #expect(Set(digests.map(hexString)).count == sets.count)
    }

    @Test func linkLocalAddressesDoNotChangeTheDigest() throws {
        let v4 = IPAddress.ipv4(IPv4Address(192, 0, 2, 100))
        let linkLocal = IPAddress.ipv6(try IPv6Address(parsing: "fe80::1"))
        let with = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddresses: [v4, linkLocal])
        let without = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddresses: [v4])
        #expect(with.digest(counter: 3) == without.digest(counter: 3))
    }

    @Test func onlyOneIPv4AddressSignsLikeUcarp() throws {
        let v4 = IPAddress.ipv4(IPv4Address(192, 0, 2, 100))
        let v6 = IPAddress.ipv6(try IPv6Address(parsing: "2001:db8::100"))
        func signsLikeUcarp(_ addresses: [IPAddress]) -> Bool {
            Authenticator(password: Array("pw".utf8), vhid: 1, virtualAddresses: addresses).signsLikeUcarp
        }
        #expect(signsLikeUcarp([v4]))
        #expect(signsLikeUcarp([v4, v4]))
        #expect(!signsLikeUcarp([v6]))
        #expect(!signsLikeUcarp([v4, v6]))
        #expect(!signsLikeUcarp([v4, .ipv4(IPv4Address(192, 0, 2, 101))]))
        #expect(!signsLikeUcarp([]))
    }

    @Test func aBadDigestOfSeveralAddressesSaysTheSetsMayDiffer() throws {
        let v6 = IPAddress.ipv6(try IPv6Address(parsing: "2001:db8::100"))
        let several = Authenticator(password: Array("pw".utf8), vhid: 1, virtualAddresses: [v6])
        let error = several.badDigest(received: [UInt8](repeating: 0xAB, count: 20), counter: 1)
        #expect(error.reason == .badDigest)
        #expect(error.isWarning)
        #expect(error.description.contains("sets of addresses for this vhid may differ"))
        #expect(error.description.contains("md=[abababab...]"))
        #expect(error.description.contains("md2=[\(hexString(several.digest(counter: 1).prefix(4)))...]"))

        let ucarp = Authenticator(password: Array("pw".utf8), vhid: 1, virtualAddress: IPv4Address(192, 0, 2, 100))
        let single = ucarp.badDigest(received: [UInt8](repeating: 0xAB, count: 20), counter: 1)
        #expect(single.description.hasSuffix("Check vhid, password and virtual IP address"))
        #expect(
            single
                == .badDigest(
                    expectedPrefix: Array(ucarp.digest(counter: 1).prefix(4)), receivedPrefix: [0xAB, 0xAB, 0xAB, 0xAB])
        )
    }
}

/// IPv4 adverts of a virtual host with several addresses: the codec is unchanged, the digest
/// tells the address sets apart.
@Suite struct SeveralAddressIPv4AdvertTests {
    static let a = IPAddress.ipv4(IPv4Address(192, 0, 2, 100))
    static let b = IPAddress.ipv4(IPv4Address(192, 0, 2, 101))
    static let v6 = IPAddress.ipv6(IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100))

    func codec(source: IPv4Address, addresses: [IPAddress]) -> IPv4AdvertisementCodec {
        IPv4AdvertisementCodec(
            vhid: 3, sourceAddress: source, group: CARPWire.defaultGroup, broadcast: false,
            authenticator: Authenticator(password: Array("pw".utf8), vhid: 3, virtualAddresses: addresses))
    }

    var frame: [UInt8] {
        codec(source: CapturedAdvert.h1, addresses: [Self.b, Self.v6, Self.a])
            .frame(advbase: 1, advskew: 20, counter: 99, ipIdentification: 5)
    }

    @Test func theSameSetInAnotherOrderIsAccepted() {
        let receiver = codec(source: CapturedAdvert.h2, addresses: [Self.a, Self.b, Self.v6])
        #expect(
            receiver.decode(frame: frame)
                == .accepted(.init(source: CapturedAdvert.h1, advbase: 1, advskew: 20, counter: 99)))
    }

    @Test(arguments: [[a, b], [a, v6], [b, a, v6, .ipv4(IPv4Address(192, 0, 2, 102))]])
    func anotherSetIsABadDigestThatSaysSo(_ addresses: [IPAddress]) throws {
        let receiver = codec(source: CapturedAdvert.h2, addresses: addresses)
        guard case .dropped(let error) = receiver.decode(frame: frame) else {
            Issue.record("accepted an advert of another address set")
            return
        }
        #expect(error.reason == .badDigest)
        #expect(error.description.contains("may differ"))
    }

    @Test func aReceiverOfOneAddressUsesUcarpsWords() {
        let receiver = codec(source: CapturedAdvert.h2, addresses: [Self.a])
        guard case .dropped(.badDigest) = receiver.decode(frame: frame) else {
            Issue.record("expected ucarp's bad digest")
            return
        }
    }
}
