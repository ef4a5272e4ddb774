/// The 36-byte CARP header, the same over IPv4 and IPv6: building it in place for both codecs.
enum CARPHeader {
    /// The header's fixed bytes (version and type, vhid, authlen), the rest zero.
    static func template(vhid: UInt8) -> [UInt8] {
        [CARPWire.version << 4 | CARPWire.typeAdvertisement, vhid, 0, CARPWire.authLength, 0, 0, 0, 0]
            + repeatElement(0, count: CARPWire.headerLength - 8)
    }

    /// Completes a header copied from ``template(vhid:)`` (its checksum field still zero):
    /// interval, counter, digest, then the checksum over these 36 bytes alone (no pseudo-header,
    /// over IPv6 too, as the BSD kernels).
    ///
    /// Always inlined: the IPv4 frame is the benchmarked hot path, and this keeps its code what
    /// it was when the codec did this itself (and its place in `Benchmarks/symbol-order.txt`).
    @inline(__always)
    static func fill(
        _ header: UnsafeMutableBufferPointer<UInt8>, advbase: UInt8, advskew: UInt8, counter: UInt64,
        authenticator: Authenticator
    ) {
        header[2] = advskew
        header[5] = advbase
        let raw = UnsafeMutableRawBufferPointer(header)
        withUnsafeBytes(of: counter.bigEndian) {
            UnsafeMutableRawBufferPointer(rebasing: raw[8..<16]).copyMemory(from: $0)
        }
        authenticator.sign(counter: counter, into: UnsafeMutableRawBufferPointer(rebasing: raw[16..<36]))
        let checksum = internetChecksum(UnsafeBufferPointer(header))
        header[6] = UInt8(checksum >> 8)
        header[7] = UInt8(truncatingIfNeeded: checksum)
    }
}
