import CARPCore

/// Lets one warning of each kind through per interval and counts the rest, so a foreign or
/// misconfigured device on our vhid cannot flood syslog (ucarp logs every bad packet).
struct WarningRateLimiter<Key: Hashable & Sendable>: Sendable {
    let interval: MonotonicDuration
    private var windows: [Key: (opened: MonotonicInstant, suppressed: UInt64)] = [:]

    init(interval: MonotonicDuration) {
        self.interval = interval
    }

    /// nil: stay quiet. Otherwise log now, mentioning how many were held back since the last
    /// line of this kind (0 for none).
    mutating func admit(_ key: Key, at now: MonotonicInstant) -> UInt64? {
        if let window = windows[key], now < window.opened + interval {
            windows[key]?.suppressed += 1
            return nil
        }
        let held = windows[key]?.suppressed ?? 0
        windows[key] = (now, 0)
        return held
    }
}
