import CARPCore
import Glibc

/// Reads `CLOCK_MONOTONIC`, the only clock the daemon's timers use.
public enum MonotonicClock {
    /// `clock_gettime(CLOCK_MONOTONIC)`.
    public static func now() -> MonotonicInstant {
        let spec = System.clock(CLOCK_MONOTONIC)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }
}
