/// The 36-byte CARP header, the same over IPv4 and IPv6: building it in place for both codecs.
enum CARPHeader {
    /// Where each field starts, counted from the header's first byte (OpenBSD's
    /// `struct carp_header`; its byte 4, the pad, stays zero).
    enum Field {
        /// Version in the high four bits, type in the low four.
        static let versionAndType = 0
        static let vhid = 1
        static let advskew = 2
        static let authLength = 3
        static let advbase = 5
        /// Two bytes, most significant first.
        static let checksum = 6
        /// The 64-bit counter, most significant byte first.
        static let counter = 8..<16
        /// The HMAC-SHA1 digest (with `--auth=strict`, a truncated HMAC-SHA256).
        static let digest = 16..<CARPWire.headerLength
    }

    /// The header's fixed bytes (version and type, vhid, authlen), the rest zero.
    static func template(vhid: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: CARPWire.headerLength)
        header[Field.versionAndType] = CARPWire.version << 4 | CARPWire.typeAdvertisement
        header[Field.vhid] = vhid
        header[Field.authLength] = CARPWire.authLength
        return header
    }

    /// Completes a header copied from ``template(vhid:)`` (its checksum field still zero):
    /// interval, counter, digest (signed for `source`, our IP source), then the checksum over these 36 bytes alone (no pseudo-header,
    /// over IPv6 too, as the BSD kernels).
    ///
    /// Always inlined: the IPv4 frame is the benchmarked hot path, and this keeps its code in
    /// the codec's own function (and so in its place in `Benchmarks/symbol-order.txt`).
    @inline(__always)
    static func fill(
        _ header: UnsafeMutableBufferPointer<UInt8>, advbase: UInt8, advskew: UInt8, counter: UInt64,
        source: IPAddress, authenticator: Authenticator
    ) {
        header[Field.advskew] = advskew
        header[Field.advbase] = advbase
        let raw = UnsafeMutableRawBufferPointer(header)
        withUnsafeBytes(of: counter.bigEndian) {
            UnsafeMutableRawBufferPointer(rebasing: raw[Field.counter]).copyMemory(from: $0)
        }
        authenticator.sign(
            source: source, advbase: advbase, advskew: advskew, counter: counter,
            into: UnsafeMutableRawBufferPointer(rebasing: raw[Field.digest]))
        let checksum = internetChecksum(UnsafeBufferPointer(header))
        header[Field.checksum] = UInt8(checksum >> 8)
        header[Field.checksum + 1] = UInt8(truncatingIfNeeded: checksum)
    }
}
