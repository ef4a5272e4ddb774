extension IPAddress {
    /// What the election compares when a master hears an advertisement of its own interval:
    /// the lower key stays master (``CARPStateMachine/received(_:at:)``).
    ///
    /// IPv4: ucarp's ``IPv4Address/ucarpTieBreakKey``, so that a mixed pair with ucarp agrees.
    /// IPv6: the address as `memcmp` orders its 16 bytes. The BSD kernels have no tie-break
    /// (a master hearing an equal interval steps down, over both families): two SwiftCARP
    /// hosts of equal priority settle on one master the ucarp way; a BSD peer yields to us,
    /// and where its address is the lower we yield too, so the first backup to time out
    /// takes over, as between two BSD hosts. Sources of the two families never meet: a codec
    /// accepts adverts of its own family only.
    public var tieBreakKey: TieBreakKey {
        switch self {
        case .ipv4(let address): TieBreakKey(high: 0, low: UInt64(address.ucarpTieBreakKey))
        case .ipv6(let address): TieBreakKey(high: address.high, low: address.low)
        }
    }

    /// A source address reduced to the 128 bits the tie-break compares.
    public struct TieBreakKey: Comparable, Hashable, Sendable {
        var high: UInt64
        var low: UInt64

        public static func < (lhs: TieBreakKey, rhs: TieBreakKey) -> Bool {
            (lhs.high, lhs.low) < (rhs.high, rhs.low)
        }
    }
}
