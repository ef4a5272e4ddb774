import CARPCore

/// An arbitrary starting point on the monotonic clock.
let t0 = MonotonicInstant(nanoseconds: 1_000_000_000_000)

extension MonotonicInstant {
    static func - (lhs: Self, rhs: MonotonicDuration) -> Self { Self(nanoseconds: lhs.nanoseconds - rhs.nanoseconds) }
}
