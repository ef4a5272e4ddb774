import CARPCore

/// The rtnetlink messages the address watch cares about, read from the datagrams of a
/// `NETLINK_ROUTE` socket: `RTM_NEWADDR`/`RTM_DELADDR` of IPv4 and IPv6 addresses and `RTM_NEWLINK`.
///
/// Datagrams come from the kernel, but are read as outside input all the same: a length that
/// runs past the datagram ends the reading there, and nothing is trusted to be aligned.
/// Numbers are in the host's order, as netlink sends them; the address itself in network order.
package enum RouteNetlink {
    package enum Message: Equatable, Sendable {
        case addressAdded(interfaceIndex: UInt32, address: IPv4Address)
        case addressRemoved(interfaceIndex: UInt32, address: IPv4Address)
        case ipv6AddressAdded(interfaceIndex: UInt32, address: IPv6Address)
        case ipv6AddressRemoved(interfaceIndex: UInt32, address: IPv6Address)
        /// A link's news (its flags changed, or it was just announced): whether it is RUNNING
        /// (up with carrier).
        case link(interfaceIndex: UInt32, running: Bool)
    }

    // From <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h> and <net/if.h>.
    static let headerLength = 16
    static let newLink: UInt16 = 16
    static let newAddress: UInt16 = 20
    static let deleteAddress: UInt16 = 21
    /// `struct ifinfomsg`: family, pad, type, index, flags, change.
    static let linkInfoLength = 16
    /// `struct ifaddrmsg`: family, prefix length, flags, scope, index.
    static let addressInfoLength = 8
    static let familyIPv4: UInt8 = 2
    static let familyIPv6: UInt8 = 10
    static let attributeAddress: UInt16 = 1
    static let attributeLocal: UInt16 = 2
    static let flagRunning: UInt32 = 0x40

    /// The messages of one datagram that are about links or addresses, in order.
    package static func messages(in datagram: [UInt8]) -> [Message] {
        var messages: [Message] = []
        var offset = 0
        while offset + headerLength <= datagram.count {
            guard let length = datagram.uint32(at: offset).map(Int.init), length >= headerLength,
                offset + length <= datagram.count, let type = datagram.uint16(at: offset + 4)
            else { break }
            let body = Array(datagram[(offset + headerLength)..<(offset + length)])
            if let message = message(type: type, body: body) { messages.append(message) }
            offset += aligned(length)
        }
        return messages
    }

    private static func message(type: UInt16, body: [UInt8]) -> Message? {
        switch type {
        case newLink:
            guard body.count >= linkInfoLength, let index = body.uint32(at: 4), let flags = body.uint32(at: 8)
            else { return nil }
            return .link(interfaceIndex: index, running: flags & flagRunning != 0)
        case newAddress where body.first == familyIPv6, deleteAddress where body.first == familyIPv6:
            guard body.count >= addressInfoLength, let index = body.uint32(at: 4),
                let address = ipv6Address(attributes: body, from: addressInfoLength)
            else { return nil }
            return type == newAddress
                ? .ipv6AddressAdded(interfaceIndex: index, address: address)
                : .ipv6AddressRemoved(interfaceIndex: index, address: address)
        case newAddress, deleteAddress:
            guard body.count >= addressInfoLength, body[0] == familyIPv4, let index = body.uint32(at: 4),
                let address = ipv4Address(attributes: body, from: addressInfoLength)
            else { return nil }
            return type == newAddress
                ? .addressAdded(interfaceIndex: index, address: address)
                : .addressRemoved(interfaceIndex: index, address: address)
        default:
            return nil
        }
    }

    /// `IFA_LOCAL` (the interface's own address), else `IFA_ADDRESS` (the same but on
    /// point-to-point links, where it is the peer's).
    private static func ipv4Address(attributes bytes: [UInt8], from start: Int) -> IPv4Address? {
        addressBytes(attributes: bytes, from: start, length: 4).map { IPv4Address($0[0], $0[1], $0[2], $0[3]) }
    }

    /// The same for IPv6, where the kernel sends the interface's own address as `IFA_ADDRESS`
    /// and adds `IFA_LOCAL` only on point-to-point links.
    private static func ipv6Address(attributes bytes: [UInt8], from start: Int) -> IPv6Address? {
        addressBytes(attributes: bytes, from: start, length: 16).flatMap { IPv6Address(octets: $0) }
    }

    /// The value of `IFA_LOCAL`, else of `IFA_ADDRESS`, when it is `length` bytes long.
    private static func addressBytes(attributes bytes: [UInt8], from start: Int, length addressLength: Int) -> [UInt8]?
    {
        var local: [UInt8]?
        var address: [UInt8]?
        var offset = start
        while offset + 4 <= bytes.count {
            guard let length = bytes.uint16(at: offset).map(Int.init), length >= 4, offset + length <= bytes.count,
                let type = bytes.uint16(at: offset + 2)
            else { break }
            if length == 4 + addressLength {
                let value = Array(bytes[(offset + 4)..<(offset + length)])
                if type == attributeLocal { local = value }
                if type == attributeAddress { address = value }
            }
            offset += aligned(length)
        }
        return local ?? address
    }

    /// `NLMSG_ALIGN` and `RTA_ALIGN`: up to a multiple of 4.
    private static func aligned(_ length: Int) -> Int { (length + 3) & ~3 }
}

extension [UInt8] {
    /// The host-order integer at `offset`, if the bytes are there.
    fileprivate func uint32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= count else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    fileprivate func uint16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    }
}
