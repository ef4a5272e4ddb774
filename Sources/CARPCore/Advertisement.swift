/// The fields of one CARP advertisement that the election and the digest use.
public struct Advertisement: Equatable, Sendable {
    public var vhid: UInt8
    public var advbase: UInt8
    public var advskew: UInt8
    public var counter: UInt64
    public var digest: [UInt8]

    public init(vhid: UInt8, advbase: UInt8, advskew: UInt8, counter: UInt64, digest: [UInt8]) {
        self.vhid = vhid
        self.advbase = advbase
        self.advskew = advskew
        self.counter = counter
        self.digest = digest
    }

    public var interval: AdvertisementInterval {
        AdvertisementInterval(base: advbase, skew: advskew)
    }

    /// The 36-byte CARP header, checksum filled in.
    public func encodedHeader() -> [UInt8] {
        var header: [UInt8] = [
            CARPWire.version << 4 | CARPWire.typeAdvertisement, vhid, advskew, CARPWire.authLength,
            0, advbase, 0, 0,
        ]
        header.reserveCapacity(CARPWire.headerLength)
        header.append(contentsOf: counter.bigEndianBytes)
        header.append(contentsOf: digest.prefix(CARPWire.digestLength))
        header.append(contentsOf: repeatElement(0, count: max(0, CARPWire.digestLength - digest.count)))
        let checksum = internetChecksum(header)
        header[6] = UInt8(checksum >> 8)
        header[7] = UInt8(truncatingIfNeeded: checksum)
        return header
    }
}

extension UInt64 {
    /// The eight bytes of the value, most significant first.
    var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) }
    }

    init(bigEndianBytes bytes: some Collection<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
