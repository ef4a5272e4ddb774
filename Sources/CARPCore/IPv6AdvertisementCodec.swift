/// Builds CARP advertisements over IPv6 as FreeBSD and OpenBSD put them on the wire, and
/// checks received ones in OpenBSD's order (`carp6_proto_input`).
///
/// The same 36-byte CARP header as over IPv4, checksummed alone (no pseudo-header), after an
/// IPv6 header with next header 112 and hop limit 255 to `ff02::12`. ucarp has no IPv6; the
/// Ethernet source is the same virtual MAC as our IPv4 adverts use.
public struct IPv6AdvertisementCodec: Sendable {
    public var vhid: UInt8 { didSet { template = makeTemplate() } }
    /// `--srcip`: an IPv6 address of the interface.
    public var sourceAddress: IPv6Address { didSet { template = makeTemplate() } }
    /// `ff02::12` unless `--mcast` names another group.
    public var group: IPv6Address { didSet { template = makeTemplate() } }
    /// `--nomcast`: Ethernet broadcast instead of the group's `33:33:...` MAC, the IPv6
    /// destination still the group (as over IPv4).
    public var broadcast: Bool { didSet { template = makeTemplate() } }
    /// Unicast mode (`--peer`): adverts go to these hosts (over a raw socket, ``header(advbase:advskew:counter:)``)
    /// and only theirs are accepted, addressed to our own source address. Empty: multicast.
    public var peers: [IPv6Address] = []
    public var authenticator: Authenticator
    /// The 90 bytes every frame of this virtual host shares; each frame patches in the
    /// interval, the counter, the digest and the CARP checksum.
    private var template: [UInt8] = []

    public init(
        vhid: UInt8, sourceAddress: IPv6Address, group: IPv6Address = CARPWire.defaultIPv6Group,
        broadcast: Bool = false, authenticator: Authenticator
    ) {
        self.vhid = vhid
        self.sourceAddress = sourceAddress
        self.group = group
        self.broadcast = broadcast
        self.authenticator = authenticator
        self.template = makeTemplate()
    }

    private static let ipStart = CARPWire.ethernetHeaderLength
    private static let carpStart = CARPWire.ethernetHeaderLength + CARPWire.ipv6HeaderLength

    /// Version 6, FreeBSD's traffic class (DSCP CS7), flow label 0, payload 36 bytes, next
    /// header 112, hop limit 255.
    private func makeTemplate() -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(CARPWire.ipv6FrameLength)
        frame += broadcast ? CARPWire.broadcastMAC : group.multicastMAC
        frame += CARPWire.virtualMAC(vhid: vhid)
        frame += [UInt8(CARPWire.etherTypeIPv6 >> 8), UInt8(CARPWire.etherTypeIPv6 & 0xFF)]
        let trafficClass = CARPWire.ipv6TrafficClass
        frame += [
            0x60 | trafficClass >> 4, (trafficClass & 0x0F) << 4, 0, 0,  // version, class, flow label
            0, UInt8(CARPWire.headerLength), CARPWire.ipProtocol, CARPWire.hopLimit,
        ]
        frame += sourceAddress.octets
        frame += group.octets
        frame += CARPHeader.template(vhid: vhid)
        return frame
    }

    /// The 36-byte CARP header of a signed advertisement, for sending over a raw `AF_INET6`
    /// socket (unicast to a `--peer`): the kernel adds the IPv6 header. Byte for byte the
    /// CARP part of ``frame(advbase:advskew:counter:)``.
    public func header(advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        var header = Array(template[Self.carpStart...])
        header.withUnsafeMutableBufferPointer { bytes in
            CARPHeader.fill(
                bytes, advbase: advbase, advskew: advskew, counter: counter, source: .ipv6(sourceAddress),
                authenticator: authenticator)
        }
        return header
    }

    /// A complete 90-byte Ethernet frame carrying a signed advertisement to the group.
    public func frame(advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        var frame = template
        frame.withUnsafeMutableBufferPointer { bytes in
            CARPHeader.fill(
                UnsafeMutableBufferPointer(rebasing: bytes[Self.carpStart...]), advbase: advbase, advskew: advskew,
                counter: counter, source: .ipv6(sourceAddress), authenticator: authenticator)
        }
        return frame
    }

    /// What became of one captured frame: the same outcome as ``IPv4AdvertisementCodec``'s.
    public typealias Outcome = AdvertisementOutcome

    /// Decodes and checks a captured Ethernet frame in OpenBSD's order: hop limit, length,
    /// checksum, version and type, vhid, then destination (the group, or us with `--peer`),
    /// sender (a `--peer`), and the digest.
    public func decode(frame: some RandomAccessCollection<UInt8>) -> Outcome {
        frame.withContiguousStorageIfAvailable { decode(bytes: $0) }
            ?? Array(frame).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    private func decode(bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let ipStart = Self.ipStart
        let carpStart = Self.carpStart
        guard bytes.count >= carpStart else { return .ignored }
        let etherType = UInt16(bytes[Ethernet.etherType]) << 8 | UInt16(bytes[Ethernet.etherType + 1])
        guard etherType == CARPWire.etherTypeIPv6, bytes[ipStart + IPv6.version] >> 4 == 6 else { return .ignored }
        let source = IPv6Address(networkOrder: bytes, at: ipStart + IPv6.source)
        guard source != sourceAddress else { return .ignored }
        guard bytes[ipStart + IPv6.nextHeader] == CARPWire.ipProtocol else { return .ignored }

        let hopLimit = bytes[ipStart + IPv6.hopLimit]
        guard hopLimit == CARPWire.hopLimit else { return .dropped(.badHopLimit(hopLimit)) }
        let payloadLength = Int(bytes[ipStart + IPv6.payloadLength]) << 8 | Int(bytes[ipStart + IPv6.payloadLength + 1])
        guard bytes.count >= carpStart + CARPWire.headerLength, payloadLength >= CARPWire.headerLength else {
            return .dropped(.truncatedIPv6(payloadLength: min(bytes.count - carpStart, payloadLength)))
        }
        // An advertisement is exactly the CARP header: more is not something a CARP host sent.
        guard payloadLength == CARPWire.headerLength else {
            return .dropped(.oversizedIPv6(payloadLength: payloadLength))
        }
        let header = UnsafeBufferPointer(rebasing: bytes[carpStart..<carpStart + CARPWire.headerLength])
        guard internetChecksum(header) == 0 else { return .dropped(.badChecksum) }
        let version = header[Field.versionAndType] >> 4
        guard version == CARPWire.version else { return .dropped(.badVersion(version)) }
        let type = header[Field.versionAndType] & 0x0F
        guard type == CARPWire.typeAdvertisement else { return .dropped(.badType(type)) }
        guard header[Field.vhid] == vhid else { return .dropped(.otherVHID(header[Field.vhid])) }
        let destination = IPv6Address(networkOrder: bytes, at: ipStart + IPv6.destination)
        guard destination == (peers.isEmpty ? group : sourceAddress) else {
            return .dropped(.otherIPv6Destination(destination))
        }
        guard peers.isEmpty || peers.contains(source) else { return .dropped(.unknownIPv6Peer(source)) }

        let counter = UInt64(bigEndianBytes: header[Field.counter])
        let (advbase, advskew) = (header[Field.advbase], header[Field.advskew])
        if let error = authenticator.check(
            digest: header[Field.digest], source: .ipv6(source), advbase: advbase, advskew: advskew, counter: counter)
        {
            return .dropped(error)
        }
        return .accepted(ReceivedAdvertisement(source: source, advbase: advbase, advskew: advskew, counter: counter))
    }
}

private typealias Field = CARPHeader.Field
private typealias Ethernet = FrameLayout.Ethernet
private typealias IPv6 = FrameLayout.IPv6
