/// An IPv6 address: its 16 bytes in network order, kept as two big-endian halves.
///
/// Two addresses compare as `memcmp` compares their bytes, which is the order the BSD kernels
/// hash the IPv6 addresses of a virtual host in.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0..<8 as a big-endian integer: `2001:db8::1` has `0x2001_0db8_0000_0000`.
    public var high: UInt64
    /// Bytes 8..<16 as a big-endian integer.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address of eight 16-bit groups: `IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)`.
    public init(
        _ g0: UInt16, _ g1: UInt16, _ g2: UInt16, _ g3: UInt16, _ g4: UInt16, _ g5: UInt16, _ g6: UInt16,
        _ g7: UInt16
    ) {
        self.init(groups: [g0, g1, g2, g3, g4, g5, g6, g7])
    }

    init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// The address whose 16 bytes (network order) these are; nil unless there are exactly 16.
    public init?(octets: some Collection<UInt8>) {
        guard octets.count == 16 else { return nil }
        self.init(networkOrder: Array(octets), at: 0)
    }

    /// Reads 16 bytes in network order from `bytes` at `offset`; the caller checks bounds.
    init(networkOrder bytes: some RandomAccessCollection<UInt8>, at offset: Int) {
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[bytes.index(start, offsetBy: index)])
            low = low << 8 | UInt64(bytes[bytes.index(start, offsetBy: index + 8)])
        }
        self.high = high
        self.low = low
    }

    /// Parses the textual forms of RFC 4291 section 2.2 as `inet_pton(AF_INET6, ...)` does:
    /// eight groups of one to four hex digits, at most one `::` standing for one or more zero
    /// groups, and an optional dotted quad (as strict as ``IPv4Address``) for the last 32 bits.
    /// Zone identifiers (`fe80::1%eth0`), prefix lengths and brackets are refused by name.
    public init(parsing text: some StringProtocol) throws(AddressError) {
        let text = String(text)
        guard !text.isEmpty else { throw .empty }
        if text.contains("%") { throw .zoneIdentifier(text) }
        if text.contains("/") { throw .prefixLength(text) }
        if let bad = text.first(where: { !($0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".")) }) {
            throw .invalidCharacter(text, bad)
        }
        let head: Substring
        let tail: Substring?
        if let range = text.firstRange(of: "::") {
            head = text[..<range.lowerBound]
            tail = text[range.upperBound...]
            if tail?.contains("::") == true { throw .severalDoubleColons(text) }
        } else {
            head = text[...]
            tail = nil
        }
        let headGroups = try Self.groups(of: head, endsAddress: tail == nil, in: text)
        let tailGroups = try tail.map { tail throws(AddressError) in
            try Self.groups(of: tail, endsAddress: true, in: text)
        }
        let given = headGroups.count + (tailGroups?.count ?? 0)
        if let tailGroups {
            // `::` stands for at least one group (as in inet_pton): 1:2:3:4::5:6:7:8 is refused.
            guard given <= 7 else { throw .wrongGroupCount(text, count: given) }
            self.init(groups: headGroups + Array(repeating: 0, count: 8 - given) + tailGroups)
        } else {
            guard given == 8 else { throw .wrongGroupCount(text, count: given) }
            self.init(groups: headGroups)
        }
    }

    /// Parses like ``init(parsing:)``; nil for anything it refuses.
    public init?(_ text: some StringProtocol) {
        guard let address = try? IPv6Address(parsing: text) else { return nil }
        self = address
    }

    /// The 16-bit groups of one side of `::` (or of the whole text without one); a dotted quad
    /// counts as two and may only end the address.
    private static func groups(of part: Substring, endsAddress: Bool, in text: String) throws(AddressError)
        -> [UInt16]
    {
        guard !part.isEmpty else { return [] }
        let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, piece) in pieces.enumerated() {
            guard !piece.isEmpty else { throw .emptyGroup(text) }
            if piece.contains(".") {
                guard endsAddress, index == pieces.count - 1 else { throw .misplacedIPv4(text) }
                guard let ipv4 = IPv4Address(piece) else { throw .invalidIPv4(text) }
                groups += [UInt16(ipv4.value >> 16), UInt16(truncatingIfNeeded: ipv4.value)]
                continue
            }
            guard piece.count <= 4 else { throw .groupTooLong(text, group: String(piece)) }
            // Only hex digits are left (checked above), at most four: this cannot fail.
            guard let group = UInt16(piece, radix: 16) else { throw .invalidCharacter(text, piece.first ?? ":") }
            groups.append(group)
        }
        return groups
    }

    /// The 16 bytes in network order.
    public var octets: [UInt8] {
        (0..<16).map { index in
            UInt8(truncatingIfNeeded: (index < 8 ? high : low) >> (56 - 8 * UInt64(index % 8)))
        }
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        (0..<8).map { index in
            UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> (48 - 16 * UInt64(index % 4)))
        }
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// `::`
    public static let unspecified = IPv6Address(high: 0, low: 0)

    public var isUnspecified: Bool { self == .unspecified }
    public var isLoopback: Bool { high == 0 && low == 1 }
    /// `fe80::/10`: valid on one link only, so never a virtual address (and left out of the
    /// digest, as OpenBSD sends it).
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// `ff00::/8`.
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// `::ffff:0:0/96`, an IPv4 address in IPv6 clothing.
    public var isIPv4Mapped: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// The Ethernet multicast address of this group (RFC 2464): `33:33` + the low 32 bits.
    public var multicastMAC: [UInt8] {
        [
            0x33, 0x33, UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16),
            UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low),
        ]
    }

    /// The form `inet_ntop` prints (and so `ip -6 addr`): lower-case hex without leading
    /// zeros, the longest run of two or more zero groups (the first of equal ones) as `::`,
    /// and a dotted quad for IPv4-mapped and IPv4-compatible addresses.
    public var description: String {
        let groups = groups
        var best: (start: Int, length: Int) = (-1, 0)
        var run: (start: Int, length: Int) = (-1, 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        if best.length < 2 { best = (-1, 0) }
        let embedsIPv4 = best.start == 0 && (best.length == 6 || (best.length == 5 && groups[5] == 0xFFFF))
        var text = ""
        var index = 0
        while index < 8 {
            if index == best.start {
                text += "::"
                index += best.length
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            if embedsIPv4 && index == 6 {
                text += IPv4Address(UInt32(groups[6]) << 16 | UInt32(groups[7])).description
                break
            }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}
