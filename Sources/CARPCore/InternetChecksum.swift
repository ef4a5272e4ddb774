/// The Internet checksum of RFC 1071: the ones' complement of the ones' complement sum of
/// the data taken as big-endian 16-bit words, an odd last byte padded with zero.
///
/// Computing it over data whose checksum field is already filled in gives 0 when it is valid.
public func internetChecksum(_ bytes: some Collection<UInt8>) -> UInt16 {
    var sum: UInt32 = 0
    var high = true
    for byte in bytes {
        sum += high ? UInt32(byte) << 8 : UInt32(byte)
        high.toggle()
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16)
    }
    return ~UInt16(sum)
}
