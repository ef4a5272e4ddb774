/// A point on the monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds.
///
/// The core never reads a clock: callers pass the current instant in, so tests can write
/// instants as literals and step time by hand. The wall clock is never used for timers, so
/// stepping it (NTP, an operator, a VM resume) cannot trigger a role change.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public static func seconds(_ seconds: Double) -> Self {
        Self(nanoseconds: UInt64(seconds * 1e9))
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: Self, rhs: MonotonicDuration) -> Self {
        Self(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    public func duration(since earlier: Self) -> MonotonicDuration {
        .nanoseconds(nanoseconds > earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0)
    }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

/// A non-negative span of monotonic time, in nanoseconds.
public struct MonotonicDuration: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64

    public static func nanoseconds(_ value: UInt64) -> Self { Self(nanoseconds: value) }
    public static func milliseconds(_ value: UInt64) -> Self { Self(nanoseconds: value * 1_000_000) }
    public static func seconds(_ value: UInt64) -> Self { Self(nanoseconds: value * 1_000_000_000) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    public static func + (lhs: Self, rhs: Self) -> Self { Self(nanoseconds: lhs.nanoseconds + rhs.nanoseconds) }

    /// Whole milliseconds, rounded up so that a poll never wakes before the deadline.
    public var millisecondsRoundedUp: UInt64 { (nanoseconds + 999_999) / 1_000_000 }
}
