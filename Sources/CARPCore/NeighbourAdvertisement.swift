/// The unsolicited neighbour advertisement (RFC 4861 section 7.2.6) a new master sends for each
/// IPv6 virtual address, as it sends a gratuitous ARP for each IPv4 one: FreeBSD's
/// `nd6_na_output` on becoming master, in the frame keepalived builds by hand.
///
/// From the interface's real MAC to `33:33:00:00:00:01`; IPv6 from the virtual address to
/// `ff02::1`, hop limit 255 (receivers refuse anything else); ICMPv6 type 136 with the Override
/// flag, so that caches replace the old master's MAC, and the target link-layer address option.
public enum NeighbourAdvertisement {
    static let icmpv6NextHeader: UInt8 = 58
    static let typeNeighbourAdvertisement: UInt8 = 136
    static let flagRouter: UInt8 = 0x80
    static let flagOverride: UInt8 = 0x20
    static let optionTargetLinkLayerAddress: UInt8 = 2
    /// Type, code, checksum, flags and reserved, target, and one 8-byte option.
    static let icmpv6Length = 4 + 4 + 16 + 8
    /// Ethernet + IPv6 + ICMPv6: 86 bytes.
    public static let frameLength = CARPWire.ethernetHeaderLength + CARPWire.ipv6HeaderLength + icmpv6Length

    /// - Parameter router: set the Router flag too, as OpenBSD and keepalived do when the host
    ///   forwards; without it a host that did may drop it from its default routers.
    public static func frame(interfaceMAC: [UInt8], virtualAddress: IPv6Address, router: Bool = false) -> [UInt8] {
        precondition(interfaceMAC.count == 6, "an Ethernet address has 6 bytes")
        let destination = CARPWire.allNodesGroup
        var icmp: [UInt8] = [typeNeighbourAdvertisement, 0, 0, 0]  // type, code, checksum
        icmp += [flagOverride | (router ? flagRouter : 0), 0, 0, 0]
        icmp += virtualAddress.octets
        icmp += [optionTargetLinkLayerAddress, 1] + interfaceMAC  // length in units of 8 bytes
        // RFC 4443 section 2.3: the checksum covers the IPv6 pseudo-header.
        let length = UInt32(icmp.count)
        var pseudoHeader = virtualAddress.octets + destination.octets
        pseudoHeader += [
            UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
        ]
        pseudoHeader += [0, 0, 0, icmpv6NextHeader]
        let checksum = internetChecksum(pseudoHeader + icmp)
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xFF)

        var frame = destination.multicastMAC + interfaceMAC
        frame += [UInt8(CARPWire.etherTypeIPv6 >> 8), UInt8(CARPWire.etherTypeIPv6 & 0xFF)]
        frame += [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xFF), icmpv6NextHeader, CARPWire.hopLimit]
        frame += virtualAddress.octets + destination.octets
        frame += icmp
        return frame
    }
}
