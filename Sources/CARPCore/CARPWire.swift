/// Constants of CARP on the wire, as ucarp 1.5.2 and the BSD kernels use them.
public enum CARPWire {
    public static let version: UInt8 = 2
    public static let typeAdvertisement: UInt8 = 1
    /// Adverts are sent with TTL 255 and anything else is refused: they never cross a router.
    public static let ttl: UInt8 = 255
    public static let ipProtocol: UInt8 = 112
    /// Counter plus digest, in 32-bit words.
    public static let authLength: UInt8 = 7
    public static let headerLength = 36
    public static let digestLength = 20
    /// ucarp keeps the key in 20 bytes including its terminating NUL.
    public static let maximumPasswordLength = 19
    public static let defaultGroup = IPv4Address(224, 0, 0, 18)
    /// `IPTOS_LOWDELAY`.
    public static let ipTypeOfService: UInt8 = 0x10
    public static let ipFlagDontFragment: UInt16 = 0x4000
    public static let ipv4HeaderLength = 20
    public static let ethernetHeaderLength = 14
    public static let etherTypeIPv4: UInt16 = 0x0800
    public static let etherTypeARP: UInt16 = 0x0806
    /// Ethernet + IPv4 + CARP: every advertisement ucarp sends is this long.
    public static let frameLength = ethernetHeaderLength + ipv4HeaderLength + headerLength
    public static let etherTypeIPv6: UInt16 = 0x86DD
    public static let ipv6HeaderLength = 40
    /// Ethernet + IPv6 + CARP: every IPv6 advertisement is this long.
    public static let ipv6FrameLength = ethernetHeaderLength + ipv6HeaderLength + headerLength
    /// `ff02::12`, the link-local scope group of CARP (and VRRP) over IPv6.
    public static let defaultIPv6Group = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 0x12)
    /// `ff02::1`, all nodes on the link: where unsolicited neighbour advertisements go.
    public static let allNodesGroup = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 1)
    /// The traffic class of IPv6 adverts: DSCP CS7, FreeBSD's default `net.inet.carp.dscp` (56).
    /// (IPv4 adverts keep ucarp's TOS ``ipTypeOfService``.)
    public static let ipv6TrafficClass: UInt8 = 56 << 2
    /// The IPv6 hop limit of adverts, checked on receipt as the TTL is: 255.
    public static let hopLimit: UInt8 = 255
    /// The advskew a sender falls back to after repeated send errors (`CARP_BULK_UPDATE_MIN_DELAY`).
    public static let demotedSkew: UInt8 = 240
    /// How our counter advances from one advert to the next (any counter is valid on the wire):
    /// an odd constant near 2⁶⁴/φ, so that a ucarp peer's counter (ours copied, plus one per
    /// advert it sent since) is never one we sent (``ReplayFilter``).
    public static let counterStride: UInt64 = 0x9E37_79B9_7F4A_7C15
    public static let broadcastMAC: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    /// The Ethernet source of every advertisement: ucarp uses the VRRP-style virtual MAC
    /// `00:00:5e:00:00:<vhid>`, not the interface's own address.
    public static func virtualMAC(vhid: UInt8) -> [UInt8] {
        [0x00, 0x00, 0x5E, 0x00, 0x00, vhid]
    }
}
