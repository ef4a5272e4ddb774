import Testing

@testable import CARPCore

/// `--peer`: unicast adverts addressed to our source address, accepted from listed peers only.
struct UnicastTests {
    let us = IPv4Address(192, 0, 2, 11)
    let peer = IPv4Address(192, 0, 2, 12)
    let stranger = IPv4Address(192, 0, 2, 13)
    let authenticator = Authenticator(password: Array("pw".utf8), vhid: 9, virtualAddress: IPv4Address(192, 0, 2, 100))

    func codec(source: IPv4Address, peers: [IPv4Address]) -> IPv4AdvertisementCodec {
        var codec = IPv4AdvertisementCodec(
            vhid: 9, sourceAddress: source, group: CARPWire.defaultGroup, broadcast: false,
            authenticator: authenticator)
        codec.peers = peers
        return codec
    }

    /// A frame as the kernel would deliver a unicast advert: IP destination `to`.
    func unicastFrame(from source: IPv4Address, to destination: IPv4Address) -> [UInt8] {
        var frame = codec(source: source, peers: []).frame(advbase: 1, advskew: 7, counter: 42, ipIdentification: 1)
        for (index, octet) in destination.octets.enumerated() { frame[30 + index] = octet }
        frame[24] = 0
        frame[25] = 0
        let checksum = internetChecksum(frame[14..<34])
        frame[24] = UInt8(checksum >> 8)
        frame[25] = UInt8(checksum & 0xFF)
        return frame
    }

    @Test func acceptsAListedPeerAddressingUs() {
        let outcome = codec(source: us, peers: [peer]).decode(frame: unicastFrame(from: peer, to: us))
        #expect(outcome == .accepted(.init(source: peer, advbase: 1, advskew: 7, counter: 42)))
    }

    @Test func dropsAnUnlistedSender() {
        let outcome = codec(source: us, peers: [peer]).decode(frame: unicastFrame(from: stranger, to: us))
        #expect(outcome == .dropped(.unknownPeer(stranger)))
    }

    @Test func dropsMulticastInUnicastModeAndUnicastInMulticastMode() {
        #expect(
            codec(source: us, peers: [peer]).decode(frame: unicastFrame(from: peer, to: CARPWire.defaultGroup))
                == .dropped(.otherDestination(CARPWire.defaultGroup)))
        #expect(
            codec(source: us, peers: []).decode(frame: unicastFrame(from: peer, to: us))
                == .dropped(.otherDestination(us)))
    }

    @Test func theHeaderIsTheFramesCARPPart() {
        let codec = codec(source: us, peers: [peer])
        let frame = codec.frame(advbase: 2, advskew: 3, counter: 5, ipIdentification: 9)
        #expect(codec.header(advbase: 2, advskew: 3, counter: 5) == Array(frame[34...]))
    }
}
