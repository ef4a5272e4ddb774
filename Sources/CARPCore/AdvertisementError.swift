/// Why a protocol-112 frame was dropped. Every case is counted.
public enum AdvertisementError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformedIPHeader(headerLength: Int)
    case truncated(length: Int)
    case oversized(length: Int)
    case badTTL(UInt8)
    case badVersion(UInt8)
    case badType(UInt8)
    case otherVHID(UInt8)
    case otherDestination(IPv4Address)
    case unknownPeer(IPv4Address)
    case badChecksum
    case badDigest(expectedPrefix: [UInt8], receivedPrefix: [UInt8])
    /// The IPv6 counterparts of the checks above, and the bad digest of a virtual host that is
    /// not a single IPv4 address: each counted under its IPv4 counterpart's ``reason``.
    case badHopLimit(UInt8)
    case truncatedIPv6(payloadLength: Int)
    case oversizedIPv6(payloadLength: Int)
    case otherIPv6Destination(IPv6Address)
    case unknownIPv6Peer(IPv6Address)
    case badDigestOfAddressSet(expectedPrefix: [UInt8], receivedPrefix: [UInt8])
    /// A verified advert carrying the counter of one of our own recent ones (``ReplayFilter``).
    case reflected(source: IPAddress, counter: UInt64)
    /// A verified advert repeating one already accepted from that source (``ReplayFilter``).
    case replayed(source: IPAddress, counter: UInt64)
    /// `--auth=strict`: the digest is not the strict one (nor ucarp's): counted as a bad digest.
    case badDigestOfStrictAdvert(expectedPrefix: [UInt8], receivedPrefix: [UInt8])
    /// `--auth=strict`: a counter not above the highest already accepted from that source
    /// (``StrictReplayWindow``): counted as replayed.
    case counterNotAbove(source: IPAddress, counter: UInt64, highest: UInt64)
    /// Signed with the password, but in the other ``AuthenticationMode`` (`mode` is the peer's).
    case otherAuthMode(source: IPAddress, mode: AuthenticationMode)

    /// A stable name per kind, for counters and rate limits.
    public var reason: DropReason {
        switch self {
        case .malformedIPHeader: .malformedIPHeader
        case .truncated: .truncated
        case .oversized: .oversized
        case .badTTL: .badTTL
        case .badVersion: .badVersion
        case .badType: .badType
        case .otherVHID: .otherVHID
        case .otherDestination: .otherDestination
        case .unknownPeer: .unknownPeer
        case .badChecksum: .badChecksum
        case .badDigest: .badDigest
        case .badHopLimit: .badTTL
        case .truncatedIPv6: .truncated
        case .oversizedIPv6: .oversized
        case .otherIPv6Destination: .otherDestination
        case .unknownIPv6Peer: .unknownPeer
        case .badDigestOfAddressSet: .badDigest
        case .reflected: .reflected
        case .replayed: .replayed
        case .badDigestOfStrictAdvert: .badDigest
        case .counterNotAbove: .replayed
        case .otherAuthMode: .otherAuthMode
        }
    }

    /// ucarp's wording where it has one.
    public var description: String {
        switch self {
        case .malformedIPHeader(let length): "Bad IP header length: [\(length)]"
        case .truncated(let length): "Bogus size: [\(length)] bytes of IP, a CARP packet needs at least 56"
        case .oversized(let length):
            "Oversized packet: [\(length)] bytes of IP, a CARP advertisement has exactly the header and 36 bytes"
        case .badTTL(let ttl): "Bad TTL: [\(ttl)]"
        case .badVersion(let version): "Bad version: [\(version)]"
        case .badType(let type): "Bad CARP type: [\(type)]"
        case .otherVHID(let vhid): "Ignoring vhid: [\(vhid)]"
        case .otherDestination(let address): "Ignoring different multicast ip: [\(address)]"
        case .unknownPeer(let address): "Advertisement from [\(address)], which is not a --peer: dropped"
        case .badChecksum: "Bad IP checksum"
        case .badDigest(let expected, let received):
            "Bad digest - md2=[\(hex(expected))...] md=[\(hex(received))...] - "
                + "Check vhid, password and virtual IP address"
        case .badHopLimit(let hopLimit): "Bad hop limit: [\(hopLimit)], CARP over IPv6 needs 255"
        case .truncatedIPv6(let length):
            "Bogus size: [\(length)] bytes of IPv6 payload, a CARP packet needs at least 36"
        case .oversizedIPv6(let length):
            "Oversized packet: [\(length)] bytes of IPv6 payload, a CARP advertisement has exactly 36"
        case .otherIPv6Destination(let address): "Ignoring different multicast ip: [\(address)]"
        case .unknownIPv6Peer(let address): "Advertisement from [\(address)], which is not a --peer: dropped"
        case .badDigestOfAddressSet(let expected, let received):
            "Bad digest - md2=[\(hex(expected))...] md=[\(hex(received))...] - "
                + "Check vhid, password and virtual IP addresses: the hosts' sets of addresses for this vhid may differ"
        case .reflected(let source, let counter):
            "Advertisement from [\(source)] carries the counter [\(counter)] of one of our own: reflected, dropped"
        case .replayed(let source, let counter):
            "Advertisement from [\(source)] repeats one already accepted from it (counter [\(counter)]): replayed, dropped"
        case .badDigestOfStrictAdvert(let expected, let received):
            "Bad digest - md2=[\(hex(expected))...] md=[\(hex(received))...] - "
                + "Check vhid, password and virtual IP addresses (--auth=strict signs advbase, advskew and the source too)"
        case .counterNotAbove(let source, let counter, let highest):
            "Advertisement from [\(source)] has counter [\(counter)], not above [\(highest)] already accepted from it: "
                + "replayed, dropped"
        case .otherAuthMode(let source, let mode):
            "Advertisement from [\(source)] in \(mode) mode; this instance runs --auth=\(mode == .strict ? "ucarp" : "strict")"
                + ": dropped (every host of a vhid must run the same --auth)"
        }
    }

    /// Whether ucarp reports it as a warning (the others only show with `--debug`).
    public var isWarning: Bool {
        switch self {
        case .truncated, .truncatedIPv6, .otherVHID, .otherDestination, .otherIPv6Destination: false
        default: true
        }
    }
}

/// The kinds of dropped packets, in ucarp's check order.
public enum DropReason: String, CaseIterable, Hashable, Sendable {
    case malformedIPHeader = "bad-ip-header"
    case truncated = "truncated"
    case oversized = "oversized"
    case badTTL = "bad-ttl"
    case badVersion = "bad-version"
    case badType = "bad-type"
    case otherVHID = "other-vhid"
    case otherDestination = "other-destination"
    case unknownPeer = "unknown-peer"
    case badChecksum = "bad-checksum"
    case badDigest = "bad-digest"
    /// Verified, but the counter is one of ours (ours: ucarp has no such check).
    case reflected = "reflected"
    /// Verified, but an exact repeat from that source (ours: ucarp has no such check).
    case replayed = "replayed"
    /// Signed with the password in the other `--auth` mode (ours: ucarp has no such check).
    case otherAuthMode = "other-auth-mode"
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }.joined()
}
