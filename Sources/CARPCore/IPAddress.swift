/// An address of either family: a virtual address, a source address or a peer.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4Address)
    case ipv6(IPv6Address)

    /// Parses text with a colon as IPv6 (``IPv6Address/init(parsing:)``), anything else as a
    /// dotted quad (``IPv4Address``).
    public init(parsing text: some StringProtocol) throws(AddressError) {
        if text.contains(":") || text.contains("%") {
            self = .ipv6(try IPv6Address(parsing: text))
        } else if text.isEmpty {
            throw .empty
        } else if text.contains("/") {
            throw .prefixLength(String(text))
        } else if let address = IPv4Address(text) {
            self = .ipv4(address)
        } else {
            throw .invalidIPv4(String(text))
        }
    }

    public var ipv4: IPv4Address? {
        guard case .ipv4(let address) = self else { return nil }
        return address
    }

    public var ipv6: IPv6Address? {
        guard case .ipv6(let address) = self else { return nil }
        return address
    }

    public var isMulticast: Bool {
        switch self {
        case .ipv4(let address): address.isMulticast
        case .ipv6(let address): address.isMulticast
        }
    }

    /// Link-local IPv6 (`fe80::/10`). IPv4 link-local addresses are not special to CARP.
    public var isLinkLocal: Bool { ipv6?.isLinkLocal ?? false }

    public var description: String {
        switch self {
        case .ipv4(let address): address.description
        case .ipv6(let address): address.description
        }
    }
}
