/// An IPv4 address, kept in host byte order.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a host-order integer: 192.0.2.1 is `0xC000_0201`.
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad notation the way `inet_pton(AF_INET, ...)` does: exactly four
    /// decimal parts, each 0...255, no leading zeros, no spaces. Returns nil otherwise.
    public init?(_ text: some StringProtocol) {
        var parts: [UInt32] = []
        var current: UInt32 = 0
        var digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits > 0 && current == 0 { return nil }  // leading zero
                current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if current > 255 { return nil }
            case UInt8(ascii: "."):
                if digits == 0 || parts.count == 3 { return nil }
                parts.append(current)
                current = 0
                digits = 0
            default:
                return nil
            }
        }
        if digits == 0 || parts.count != 3 { return nil }
        parts.append(current)
        self.value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    /// The four octets in network order.
    public var octets: [UInt8] {
        [
            UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value),
        ]
    }

    /// Reads four octets in network order from `bytes` at `offset`; the caller checks bounds.
    init(networkOrder bytes: some RandomAccessCollection<UInt8>, at offset: Int) {
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        var value: UInt32 = 0
        for index in 0..<4 {
            value = value << 8 | UInt32(bytes[bytes.index(start, offsetBy: index)])
        }
        self.value = value
    }

    public var isMulticast: Bool { value >> 28 == 0xE }
    public var isUnspecified: Bool { value == 0 }

    /// The key ucarp's election compares when two intervals are equal.
    ///
    /// ucarp compares `s_addr` (network order in memory) as a host integer, so on the
    /// little-endian machines it runs on the *last* octet weighs most: 10.0.0.12 is "higher"
    /// than 192.0.2.11. Mirroring that keeps a mixed pair agreeing on who stays master.
    public var ucarpTieBreakKey: UInt32 { value.byteSwapped }

    /// The Ethernet multicast address of this group: `01:00:5e` + the low 23 bits.
    public var multicastMAC: [UInt8] {
        [
            0x01, 0x00, 0x5E, UInt8(truncatingIfNeeded: value >> 16) & 0x7F,
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}
