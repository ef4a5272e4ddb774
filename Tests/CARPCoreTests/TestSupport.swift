@testable import CARPCore

/// One advertisement captured from the real ucarp, with the settings of the daemon that sent it
/// (read off the command line in the comment above each frame in `CapturedFrames.swift`).
struct CapturedAdvert: Sendable, CustomStringConvertible {
    var name: String
    var frame: [UInt8]
    var vhid: UInt8
    var sourceAddress: IPv4Address
    var password: String
    var virtualAddress: IPv4Address
    var advbase: UInt8
    var advskew: UInt8
    var broadcast: Bool

    var description: String { name }

    /// The counter as it stands in the CARP header (bytes 8..<16 of it).
    var counter: UInt64 { UInt64(bigEndianBytes: frame[42..<50]) }
    /// The IPv4 identification, random per advertisement.
    var ipIdentification: UInt16 { UInt16(frame[18]) << 8 | UInt16(frame[19]) }

    /// The codec the sender used.
    var senderCodec: IPv4AdvertisementCodec {
        codec(source: sourceAddress)
    }

    /// A codec for a peer of the sender: same virtual host, another source address.
    func receiverCodec(
        source: IPv4Address = IPv4Address(192, 0, 2, 99), password: String? = nil,
        virtualAddress: IPv4Address? = nil, vhid: UInt8? = nil
    ) -> IPv4AdvertisementCodec {
        codec(source: source, password: password, virtualAddress: virtualAddress, vhid: vhid)
    }

    private func codec(
        source: IPv4Address, password: String? = nil, virtualAddress: IPv4Address? = nil, vhid: UInt8? = nil
    ) -> IPv4AdvertisementCodec {
        let vhid = vhid ?? self.vhid
        return IPv4AdvertisementCodec(
            vhid: vhid, sourceAddress: source, group: CARPWire.defaultGroup, broadcast: broadcast,
            authenticator: Authenticator(
                password: Array((password ?? self.password).utf8), vhid: vhid,
                virtualAddress: virtualAddress ?? self.virtualAddress))
    }

    static let h1 = IPv4Address(192, 0, 2, 11)
    static let h2 = IPv4Address(192, 0, 2, 12)
    static let vip100 = IPv4Address(192, 0, 2, 100)
    static let vip200 = IPv4Address(192, 0, 2, 200)

    static func love(
        _ name: String, _ frame: [UInt8], source: IPv4Address = h1, advskew: UInt8 = 0, broadcast: Bool = false
    )
        -> CapturedAdvert
    {
        CapturedAdvert(
            name: name, frame: frame, vhid: 1, sourceAddress: source, password: "love", virtualAddress: vip100,
            advbase: 1, advskew: advskew, broadcast: broadcast)
    }

    static func secret(_ name: String, _ frame: [UInt8]) -> CapturedAdvert {
        CapturedAdvert(
            name: name, frame: frame, vhid: 42, sourceAddress: h2, password: "s3cret-pass", virtualAddress: vip200,
            advbase: 3, advskew: 100, broadcast: false)
    }

    static let all: [CapturedAdvert] = [
        love("loveVhid1Advert1", CapturedFrames.loveVhid1Advert1),
        love("loveVhid1Advert2", CapturedFrames.loveVhid1Advert2),
        love("loveVhid1Advert3", CapturedFrames.loveVhid1Advert3),
        love("loveVhid1Advert4", CapturedFrames.loveVhid1Advert4),
        love("loveVhid1Advert5", CapturedFrames.loveVhid1Advert5),
        love("loveVhid1Advert6", CapturedFrames.loveVhid1Advert6),
        secret("secretVhid42Advert1", CapturedFrames.secretVhid42Advert1),
        secret("secretVhid42Advert2", CapturedFrames.secretVhid42Advert2),
        love("nomcastVhid1Advert1", CapturedFrames.nomcastVhid1Advert1, broadcast: true),
        love("nomcastVhid1Advert2", CapturedFrames.nomcastVhid1Advert2, broadcast: true),
        love("handoverH2Advert", CapturedFrames.handoverH2Advert, source: h2, advskew: 100),
        love("handoverH1Advert1", CapturedFrames.handoverH1Advert1),
        love("handoverH2PartingAdvert", CapturedFrames.handoverH2PartingAdvert, source: h2, advskew: 100),
        love("handoverH1Advert2", CapturedFrames.handoverH1Advert2),
        love("handoverH1Advert3", CapturedFrames.handoverH1Advert3),
        love("handoverH1Advert4", CapturedFrames.handoverH1Advert4),
    ]
}

/// Byte offsets inside a 70-byte advertisement frame.
enum Offset {
    static let etherType = 12
    static let ip = 14
    static let ipTypeOfService = 15
    static let ipTotalLength = 16
    static let ipIdentification = 18
    static let ipTTL = 22
    static let ipProtocol = 23
    static let ipChecksum = 24
    static let ipSource = 26
    static let ipDestination = 30
    static let carp = 34
    static let carpVHID = 35
    static let carpAdvskew = 36
    static let carpAdvbase = 39
    static let carpChecksum = 40
    static let carpCounter = 42
    static let carpDigest = 50
}

extension Array where Element == UInt8 {
    /// A copy with `body` applied, then both the IPv4 header checksum and the CARP checksum
    /// recomputed, so that only the check under test can fail.
    func modified(fixingChecksums: Bool = true, _ body: (inout [UInt8]) -> Void) -> [UInt8] {
        var copy = self
        body(&copy)
        if fixingChecksums { copy.fixChecksums() }
        return copy
    }

    mutating func fixChecksums() {
        let ipEnd = Offset.ip + Int(self[Offset.ip] & 0x0F) * 4
        self[Offset.ipChecksum] = 0
        self[Offset.ipChecksum + 1] = 0
        let ipSum = internetChecksum(self[Offset.ip..<ipEnd])
        self[Offset.ipChecksum] = UInt8(ipSum >> 8)
        self[Offset.ipChecksum + 1] = UInt8(ipSum & 0xFF)
        guard count >= ipEnd + CARPWire.headerLength else { return }
        self[ipEnd + 6] = 0
        self[ipEnd + 7] = 0
        let carpSum = internetChecksum(self[ipEnd..<ipEnd + CARPWire.headerLength])
        self[ipEnd + 6] = UInt8(carpSum >> 8)
        self[ipEnd + 7] = UInt8(carpSum & 0xFF)
    }

    mutating func write(_ address: IPv4Address, at offset: Int) {
        replaceSubrange(offset..<offset + 4, with: address.octets)
    }
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }.joined()
}
