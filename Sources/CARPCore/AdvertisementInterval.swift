/// How often a host advertises: `base` seconds plus `skew`/256 of a second.
///
/// Compared as ucarp compares `struct timeval`s: seconds first, then microseconds computed as
/// `skew × 1 000 000 / 256` rounded down. Lower means more frequent, which means preferred.
public struct AdvertisementInterval: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var seconds: UInt32
    public var microseconds: UInt32

    public init(base: UInt8, skew: UInt8) {
        self.seconds = UInt32(base)
        self.microseconds = Self.microseconds(skew: skew)
    }

    public init(seconds: UInt32, microseconds: UInt32) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    static func microseconds(skew: UInt8) -> UInt32 {
        UInt32(UInt64(skew) * 1_000_000 / 256)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.seconds, lhs.microseconds) < (rhs.seconds, rhs.microseconds)
    }

    public var duration: MonotonicDuration {
        .nanoseconds(UInt64(seconds) * 1_000_000_000 + UInt64(microseconds) * 1_000)
    }

    public var description: String {
        let fraction = String(microseconds + 1_000_000).dropFirst()
        return "\(seconds).\(fraction)s"
    }
}
