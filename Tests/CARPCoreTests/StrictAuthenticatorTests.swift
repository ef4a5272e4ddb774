import Testing

@testable import CARPCore

/// `--auth=strict`: HMAC-SHA256 over the whole advertisement and its IP source, truncated to
/// the 20 bytes of the digest field, with the codecs' round trips and the mode checks.
///
/// The known answers were computed apart from our encoder, with Python's `hmac` and `hashlib`
/// over bytes built by hand (Debian's python3):
///
/// ```python
/// import hmac, hashlib
/// label = b"SwiftCARP strict 1"
/// def msg(prefix, source, advbase, advskew, counter):
///     fam = b"\x04" if len(source) == 4 else b"\x06"
///     return (label + len(prefix).to_bytes(2, "big") + prefix + fam + source
///             + bytes([advbase, advskew]) + counter.to_bytes(8, "big"))
/// p1 = bytes([2, 1, 1, 10, 0, 0, 100])
/// m1 = msg(p1, bytes([10, 0, 0, 2]), 1, 0, (1 << 32) + 5)
/// hmac.new(b"love", m1, hashlib.sha256).digest()[:20].hex()
/// m2 = msg(p1, bytes([10, 0, 0, 2]), 255, 255, (1 << 32) + 5)
/// hmac.new(b"love", m2, hashlib.sha256).digest()[:20].hex()
/// v = bytes.fromhex("20010db8000000000000000000000100")
/// s6 = bytes.fromhex("20010db8000000000000000000000002")
/// m3 = msg(bytes([2, 1, 7]) + v, s6, 1, 100, 0x6000000000000001)
/// hmac.new(b"secret", m3, hashlib.sha256).digest()[:20].hex()
/// ```
@Suite struct StrictAuthenticatorTests {
    static let vip = IPv4Address(10, 0, 0, 100)
    static let peer = IPv4Address(10, 0, 0, 2)
    static let counter: UInt64 = (1 << 32) + 5
    let strict = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: Self.vip, mode: .strict)
    let ucarp = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: Self.vip)

    @Test func knownAnswerForLoveVhid1FromTenZeroZeroTwo() {
        let digest = strict.digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter)
        #expect(hexString(digest) == "510a8be0f2e935ce82fb20f9a0ecdaf61ca4e281")
    }

    @Test func knownAnswerOfTheLeavingAdvertisement() {
        let digest = strict.digest(source: .ipv4(Self.peer), advbase: 255, advskew: 255, counter: Self.counter)
        #expect(hexString(digest) == "bb78365c1ae9c0e7c25e3f2d19910d5088435213")
    }

    @Test func knownAnswerOverIPv6() throws {
        let vip = try #require(IPv6Address("2001:db8::100"))
        let source = try #require(IPv6Address("2001:db8::2"))
        let authenticator = Authenticator(
            password: Array("secret".utf8), vhid: 7, virtualAddresses: [.ipv6(vip)], mode: .strict)
        let digest = authenticator.digest(
            source: .ipv6(source), advbase: 1, advskew: 100, counter: 0x6000_0000_0000_0001)
        #expect(hexString(digest) == "47edcf746a9f28020b0311c21a4c5ffd79039828")
    }

    @Test func theUcarpModeDigestIsUnchanged() {
        // The known answer of AuthenticatorTests, through the mode-aware entry point.
        let digest = ucarp.digest(source: .ipv4(Self.peer), advbase: 9, advskew: 9, counter: 1)
        #expect(hexString(digest) == "a57228fe58cacbeb3eb36032ecbcaaa46e4f91fb")
    }

    @Test func everySignedFieldChangesTheStrictDigest() {
        let base = strict.digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter)
        let others = [
            strict.digest(source: .ipv4(IPv4Address(10, 0, 0, 3)), advbase: 1, advskew: 0, counter: Self.counter),
            strict.digest(source: .ipv4(Self.peer), advbase: 0, advskew: 0, counter: Self.counter),
            strict.digest(source: .ipv4(Self.peer), advbase: 1, advskew: 1, counter: Self.counter),
            strict.digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter + 1),
            Authenticator(password: Array("love".utf8), vhid: 2, virtualAddress: Self.vip, mode: .strict)
                .digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter),
            Authenticator(
                password: Array("love".utf8), vhid: 1, virtualAddress: IPv4Address(10, 0, 0, 101), mode: .strict
            )
            .digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter),
            Authenticator(password: Array("Love".utf8), vhid: 1, virtualAddress: Self.vip, mode: .strict)
                .digest(source: .ipv4(Self.peer), advbase: 1, advskew: 0, counter: Self.counter),
        ]
        for other in others {
            #expect(other != base)
        }
    }

    @Test func checkAcceptsOurModeAndNamesTheOtherOne() {
        let source = IPAddress.ipv4(Self.peer)
        let strictDigest = strict.digest(source: source, advbase: 1, advskew: 0, counter: Self.counter)
        let ucarpDigest = ucarp.digest(counter: Self.counter)
        #expect(
            strict.check(digest: strictDigest, source: source, advbase: 1, advskew: 0, counter: Self.counter) == nil)
        #expect(ucarp.check(digest: ucarpDigest, source: source, advbase: 1, advskew: 0, counter: Self.counter) == nil)
        #expect(
            strict.check(digest: ucarpDigest, source: source, advbase: 1, advskew: 0, counter: Self.counter)
                == .otherAuthMode(source: source, mode: .ucarp))
        #expect(
            ucarp.check(digest: strictDigest, source: source, advbase: 1, advskew: 0, counter: Self.counter)
                == .otherAuthMode(source: source, mode: .strict))
        let warning = AdvertisementError.otherAuthMode(source: source, mode: .ucarp).description
        #expect(warning.contains("[10.0.0.2] in ucarp mode; this instance runs --auth=strict"), "\(warning)")
    }

    @Test func aForgedFieldIsABadDigestInStrictModeOnly() {
        let source = IPAddress.ipv4(Self.peer)
        let signed = strict.digest(source: source, advbase: 1, advskew: 100, counter: Self.counter)
        for (advbase, advskew, from) in [
            (1 as UInt8, 0 as UInt8, source), (0, 100, source), (255, 255, source),
            (1, 100, IPAddress.ipv4(IPv4Address(10, 0, 0, 1))),
        ] {
            let error = strict.check(
                digest: signed, source: from, advbase: advbase, advskew: advskew, counter: Self.counter)
            #expect(error?.reason == .badDigest, "advbase \(advbase) advskew \(advskew) from \(from)")
        }
        // ucarp's digest covers none of these: the same forgeries pass in ucarp mode.
        let ucarpDigest = ucarp.digest(counter: Self.counter)
        #expect(ucarp.check(digest: ucarpDigest, source: source, advbase: 0, advskew: 1, counter: Self.counter) == nil)
    }

    // MARK: The codecs

    @Test func ipv4FramesRoundTripInStrictModeAndAreDroppedByTheOtherMode() throws {
        let authenticator = strict
        let sender = IPv4AdvertisementCodec(
            vhid: 1, sourceAddress: Self.peer, group: CARPWire.defaultGroup, broadcast: false,
            authenticator: authenticator)
        let receiver = IPv4AdvertisementCodec(
            vhid: 1, sourceAddress: IPv4Address(10, 0, 0, 3), group: CARPWire.defaultGroup, broadcast: false,
            authenticator: authenticator)
        let frame = sender.frame(advbase: 1, advskew: 0, counter: Self.counter, ipIdentification: 7)
        #expect(frame.count == CARPWire.frameLength)
        // The wire layout is ucarp's: authlen 7, the counter where ucarp has it, our known answer.
        #expect(frame[34 + 3] == CARPWire.authLength)
        #expect(UInt64(bigEndianBytes: frame[42..<50]) == Self.counter)
        #expect(hexString(Array(frame[50..<70])) == "510a8be0f2e935ce82fb20f9a0ecdaf61ca4e281")
        #expect(
            receiver.decode(frame: frame)
                == .accepted(ReceivedAdvertisement(source: Self.peer, advbase: 1, advskew: 0, counter: Self.counter)))
        var ucarpReceiver = receiver
        ucarpReceiver.authenticator = ucarp
        #expect(ucarpReceiver.decode(frame: frame) == .dropped(.otherAuthMode(source: .ipv4(Self.peer), mode: .strict)))
        // The header sent over the unicast socket is the frame's CARP part.
        #expect(sender.header(advbase: 1, advskew: 0, counter: Self.counter) == Array(frame[34..<70]))
    }

    @Test func aStrictFrameRewrittenToAnotherSkewOrSourceIsABadDigest() {
        let sender = IPv4AdvertisementCodec(
            vhid: 1, sourceAddress: Self.peer, group: CARPWire.defaultGroup, broadcast: false, authenticator: strict)
        let receiver = IPv4AdvertisementCodec(
            vhid: 1, sourceAddress: IPv4Address(10, 0, 0, 3), group: CARPWire.defaultGroup, broadcast: false,
            authenticator: strict)
        let frame = sender.frame(advbase: 1, advskew: 100, counter: Self.counter, ipIdentification: 7)
        var skewed = frame
        skewed[34 + 2] = 0
        var fromElsewhere = frame
        fromElsewhere[26 + 3] = 66
        for forged in [skewed, fromElsewhere] {
            let fixed = withChecksumsFixed(forged)
            guard case .dropped(let error) = receiver.decode(frame: fixed) else {
                Issue.record("a forged frame was not dropped")
                continue
            }
            #expect(error.reason == .badDigest)
        }
    }

    @Test func ipv6FramesRoundTripInStrictMode() throws {
        let vip = try #require(IPv6Address("2001:db8::100"))
        let source = try #require(IPv6Address("2001:db8::2"))
        let authenticator = Authenticator(
            password: Array("secret".utf8), vhid: 7, virtualAddresses: [.ipv6(vip)], mode: .strict)
        let sender = IPv6AdvertisementCodec(vhid: 7, sourceAddress: source, authenticator: authenticator)
        let receiver = IPv6AdvertisementCodec(
            vhid: 7, sourceAddress: try #require(IPv6Address("2001:db8::3")), authenticator: authenticator)
        let frame = sender.frame(advbase: 1, advskew: 100, counter: 0x6000_0000_0000_0001)
        #expect(hexString(Array(frame[(14 + 40 + 16)...])) == "47edcf746a9f28020b0311c21a4c5ffd79039828")
        #expect(
            receiver.decode(frame: frame)
                == .accepted(
                    ReceivedAdvertisement(source: source, advbase: 1, advskew: 100, counter: 0x6000_0000_0000_0001)))
    }

    /// The IPv4 header checksum and the CARP checksum recomputed, as a forger on the segment does.
    private func withChecksumsFixed(_ frame: [UInt8]) -> [UInt8] {
        var frame = frame
        frame[24] = 0
        frame[25] = 0
        let ip = internetChecksum(frame[14..<34])
        frame[24] = UInt8(ip >> 8)
        frame[25] = UInt8(truncatingIfNeeded: ip)
        frame[34 + 6] = 0
        frame[34 + 7] = 0
        let carp = internetChecksum(frame[34..<70])
        frame[34 + 6] = UInt8(carp >> 8)
        frame[34 + 7] = UInt8(truncatingIfNeeded: carp)
        return frame
    }
}
