/// The codec of one virtual host over the family of its `--srcip`: ucarp's IPv4 adverts, or
/// the BSD kernels' IPv6 ones. Both decode to one ``AdvertisementOutcome``.
public enum AnyAdvertisementCodec: Sendable {
    case ipv4(IPv4AdvertisementCodec)
    case ipv6(IPv6AdvertisementCodec)

    /// The codec for `sourceAddress`'s family; nil when the group or a peer is of the other.
    public init?(
        vhid: UInt8, sourceAddress: IPAddress, group: IPAddress, broadcast: Bool, peers: [IPAddress],
        authenticator: Authenticator
    ) {
        switch (sourceAddress, group) {
        case (.ipv4(let source), .ipv4(let group)):
            let ipv4Peers = peers.compactMap(\.ipv4)
            guard ipv4Peers.count == peers.count else { return nil }
            var codec = IPv4AdvertisementCodec(
                vhid: vhid, sourceAddress: source, group: group, broadcast: broadcast, authenticator: authenticator)
            codec.peers = ipv4Peers
            self = .ipv4(codec)
        case (.ipv6(let source), .ipv6(let group)):
            let ipv6Peers = peers.compactMap(\.ipv6)
            guard ipv6Peers.count == peers.count else { return nil }
            var codec = IPv6AdvertisementCodec(
                vhid: vhid, sourceAddress: source, group: group, broadcast: broadcast, authenticator: authenticator)
            codec.peers = ipv6Peers
            self = .ipv6(codec)
        default:
            return nil
        }
    }

    /// Decodes and checks a captured Ethernet frame (each family in its own order).
    public func decode(frame: some RandomAccessCollection<UInt8>) -> AdvertisementOutcome {
        switch self {
        case .ipv4(let codec): codec.decode(frame: frame)
        case .ipv6(let codec): codec.decode(frame: frame)
        }
    }

    /// The 36-byte CARP header of a signed advertisement, for a raw IP socket (`--peer`).
    public func header(advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        switch self {
        case .ipv4(let codec): codec.header(advbase: advbase, advskew: advskew, counter: counter)
        case .ipv6(let codec): codec.header(advbase: advbase, advskew: advskew, counter: counter)
        }
    }

    /// A complete Ethernet frame to the group; `ipIdentification` is IPv4's (IPv6 has none).
    public func frame(advbase: UInt8, advskew: UInt8, counter: UInt64, ipIdentification: UInt16) -> [UInt8] {
        switch self {
        case .ipv4(let codec):
            codec.frame(advbase: advbase, advskew: advskew, counter: counter, ipIdentification: ipIdentification)
        case .ipv6(let codec): codec.frame(advbase: advbase, advskew: advskew, counter: counter)
        }
    }
}
