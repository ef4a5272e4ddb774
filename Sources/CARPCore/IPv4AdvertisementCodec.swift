/// Builds advertisement frames as ucarp 1.5.2 does and checks received ones in ucarp's order.
public struct IPv4AdvertisementCodec: Sendable {
    public var vhid: UInt8 { didSet { template = makeTemplate() } }
    public var sourceAddress: IPv4Address { didSet { template = makeTemplate() } }
    public var group: IPv4Address { didSet { template = makeTemplate() } }
    /// ucarp's `--nomcast`: Ethernet broadcast instead of the group's multicast MAC.
    public var broadcast: Bool { didSet { template = makeTemplate() } }
    /// Unicast mode (`--peer`): adverts go to these hosts and only theirs are accepted,
    /// addressed to our own source address. Empty: multicast, as ucarp.
    public var peers: [IPv4Address] = []
    public var authenticator: Authenticator
    /// The 70 bytes every frame of this virtual host shares; each frame patches in the IP id,
    /// the interval, the counter, the digest and the two checksums.
    private var template: [UInt8] = []

    public init(
        vhid: UInt8, sourceAddress: IPv4Address, group: IPv4Address, broadcast: Bool,
        authenticator: Authenticator
    ) {
        self.vhid = vhid
        self.sourceAddress = sourceAddress
        self.group = group
        self.broadcast = broadcast
        self.authenticator = authenticator
        self.template = makeTemplate()
    }

    private static let ipStart = CARPWire.ethernetHeaderLength
    private static let carpStart = CARPWire.ethernetHeaderLength + CARPWire.ipv4HeaderLength

    /// Layout as in ucarp's `carp_send_ad`: source MAC `00:00:5e:00:00:<vhid>`, TOS low delay,
    /// DF, TTL 255, the IP destination always the group (also with `--nomcast`).
    private func makeTemplate() -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(CARPWire.frameLength)
        frame += broadcast ? CARPWire.broadcastMAC : group.multicastMAC
        frame += CARPWire.virtualMAC(vhid: vhid)
        frame += [UInt8(CARPWire.etherTypeIPv4 >> 8), UInt8(CARPWire.etherTypeIPv4 & 0xFF)]
        let totalLength = UInt16(CARPWire.ipv4HeaderLength + CARPWire.headerLength)
        frame += [
            0x45, CARPWire.ipTypeOfService, UInt8(totalLength >> 8), UInt8(totalLength & 0xFF),
            0, 0,  // identification
            UInt8(CARPWire.ipFlagDontFragment >> 8), 0,
            CARPWire.ttl, CARPWire.ipProtocol, 0, 0,  // checksum
        ]
        frame += sourceAddress.octets
        frame += group.octets
        frame += CARPHeader.template(vhid: vhid)
        return frame
    }

    /// The 36-byte CARP header of a signed advertisement, for sending over an IP socket.
    public func header(advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        var header = Array(template[Self.carpStart...])
        header.withUnsafeMutableBufferPointer { bytes in
            fillHeader(bytes, advbase: advbase, advskew: advskew, counter: counter)
        }
        return header
    }

    /// A complete 70-byte Ethernet frame carrying a signed advertisement.
    public func frame(advbase: UInt8, advskew: UInt8, counter: UInt64, ipIdentification: UInt16) -> [UInt8] {
        var frame = template
        frame.withUnsafeMutableBufferPointer { bytes in
            let ip = UnsafeMutableBufferPointer(rebasing: bytes[Self.ipStart..<Self.carpStart])
            ip[IPv4.identification] = UInt8(ipIdentification >> 8)
            ip[IPv4.identification + 1] = UInt8(truncatingIfNeeded: ipIdentification)
            let checksum = internetChecksum(UnsafeBufferPointer(ip))
            ip[IPv4.checksum] = UInt8(checksum >> 8)
            ip[IPv4.checksum + 1] = UInt8(truncatingIfNeeded: checksum)
            fillHeader(
                UnsafeMutableBufferPointer(rebasing: bytes[Self.carpStart...]),
                advbase: advbase, advskew: advskew, counter: counter)
        }
        return frame
    }

    /// Completes a CARP header copied from the template: interval, counter, digest, checksum.
    private func fillHeader(
        _ header: UnsafeMutableBufferPointer<UInt8>, advbase: UInt8, advskew: UInt8, counter: UInt64
    ) {
        CARPHeader.fill(
            header, advbase: advbase, advskew: advskew, counter: counter, source: .ipv4(sourceAddress),
            authenticator: authenticator)
    }

    /// What became of one captured frame: the one outcome of both families' codecs.
    public typealias Outcome = AdvertisementOutcome

    /// Decodes and checks a captured Ethernet frame, in ucarp's order: size, TTL, version,
    /// vhid, destination group, checksums, digest.
    public func decode(frame: some RandomAccessCollection<UInt8>) -> Outcome {
        frame.withContiguousStorageIfAvailable { decode(bytes: $0) }
            ?? Array(frame).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    private func decode(bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let ipStart = CARPWire.ethernetHeaderLength
        guard bytes.count > ipStart + CARPWire.ipv4HeaderLength else { return .ignored }
        let etherType = UInt16(bytes[Ethernet.etherType]) << 8 | UInt16(bytes[Ethernet.etherType + 1])
        let versionAndHeaderLength = bytes[ipStart + IPv4.versionAndHeaderLength]
        guard etherType == CARPWire.etherTypeIPv4, versionAndHeaderLength >> 4 == 4 else { return .ignored }
        let source = IPv4Address(networkOrder: bytes, at: ipStart + IPv4.source)
        guard source != sourceAddress else { return .ignored }
        guard bytes[ipStart + IPv4.protocol] == CARPWire.ipProtocol else { return .ignored }

        let ipHeaderLength = Int(versionAndHeaderLength & 0x0F) * 4
        guard ipHeaderLength >= CARPWire.ipv4HeaderLength else {
            return .dropped(.malformedIPHeader(headerLength: ipHeaderLength))
        }
        let carpStart = ipStart + ipHeaderLength
        let ipTotalLength = Int(bytes[ipStart + IPv4.totalLength]) << 8 | Int(bytes[ipStart + IPv4.totalLength + 1])
        guard bytes.count >= carpStart + CARPWire.headerLength,
            ipTotalLength >= ipHeaderLength + CARPWire.headerLength
        else {
            return .dropped(.truncated(length: min(bytes.count - ipStart, ipTotalLength)))
        }
        // An IPv4 advertisement is exactly the CARP header: more is not something we sent.
        guard ipTotalLength == ipHeaderLength + CARPWire.headerLength else {
            return .dropped(.oversized(length: ipTotalLength))
        }
        let ttl = bytes[ipStart + IPv4.ttl]
        guard ttl == CARPWire.ttl else { return .dropped(.badTTL(ttl)) }
        let header = UnsafeBufferPointer(rebasing: bytes[carpStart..<carpStart + CARPWire.headerLength])
        let version = header[Field.versionAndType] >> 4
        guard version == CARPWire.version else { return .dropped(.badVersion(version)) }
        let type = header[Field.versionAndType] & 0x0F
        guard type == CARPWire.typeAdvertisement else { return .dropped(.badType(type)) }
        let theirVHID = header[Field.vhid]
        guard theirVHID == vhid else { return .dropped(.otherVHID(theirVHID)) }
        let destination = IPv4Address(networkOrder: bytes, at: ipStart + IPv4.destination)
        guard destination == (peers.isEmpty ? group : sourceAddress) else {
            return .dropped(.otherDestination(destination))
        }
        guard peers.isEmpty || peers.contains(source) else { return .dropped(.unknownPeer(source)) }
        guard internetChecksum(bytes[ipStart..<carpStart]) == 0, internetChecksum(header) == 0
        else { return .dropped(.badChecksum) }

        let counter = UInt64(bigEndianBytes: header[Field.counter])
        let (advbase, advskew) = (header[Field.advbase], header[Field.advskew])
        if let error = authenticator.check(
            digest: header[Field.digest], source: .ipv4(source), advbase: advbase, advskew: advskew, counter: counter)
        {
            return .dropped(error)
        }
        return .accepted(
            ReceivedAdvertisement(source: .ipv4(source), advbase: advbase, advskew: advskew, counter: counter))
    }
}

/// What became of one captured frame, over either family.
public enum AdvertisementOutcome: Equatable, Sendable {
    /// A valid advertisement from a peer of our virtual host.
    case accepted(ReceivedAdvertisement)
    /// Not meant for a CARP receiver at all (too short, another family or protocol, or our
    /// own): ucarp drops these without a word, and so do we.
    case ignored
    /// A protocol-112 packet that failed a check: counted, and maybe logged.
    case dropped(AdvertisementError)
}

/// A verified advertisement, over IPv4 or IPv6: what the election needs from it.
public struct ReceivedAdvertisement: Equatable, Sendable {
    public var source: IPAddress
    public var advbase: UInt8
    public var advskew: UInt8
    public var counter: UInt64

    /// A departing master's last advertisement (``CARPStateMachine/isLeaving(advbase:advskew:)``).
    public var isLeaving: Bool { CARPStateMachine.isLeaving(advbase: advbase, advskew: advskew) }

    public init(source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64) {
        self.source = source
        self.advbase = advbase
        self.advskew = advskew
        self.counter = counter
    }

    /// An advertisement received over IPv4.
    public init(source: IPv4Address, advbase: UInt8, advskew: UInt8, counter: UInt64) {
        self.init(source: .ipv4(source), advbase: advbase, advskew: advskew, counter: counter)
    }

    /// An advertisement received over IPv6.
    public init(source: IPv6Address, advbase: UInt8, advskew: UInt8, counter: UInt64) {
        self.init(source: .ipv6(source), advbase: advbase, advskew: advskew, counter: counter)
    }

    public var interval: AdvertisementInterval { AdvertisementInterval(base: advbase, skew: advskew) }
}

extension UInt64 {
    /// The value of eight bytes, most significant first.
    init(bigEndianBytes bytes: some Collection<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

private typealias Field = CARPHeader.Field
private typealias Ethernet = FrameLayout.Ethernet
private typealias IPv4 = FrameLayout.IPv4
