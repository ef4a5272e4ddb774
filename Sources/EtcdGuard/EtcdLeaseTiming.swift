import CARPCore

/// A lease's timing, one rule for the guard (``EtcdLeaseGuard``) and a reload's move
/// (``EtcdLeaseMove``): a sixth of the TTL taken off our own deadline and allowed to a call,
/// renewals every third of the TTL etcd granted.
enum EtcdLeaseTiming {
    /// A sixth of a TTL of `ttl` seconds: the default margin and request timeout (0.5 s for
    /// a TTL of 3 s), so that a renewal that gets no answer leaves time for two more before
    /// the deadline.
    static func sixth(ofTTL ttl: Int64) -> MonotonicDuration {
        .nanoseconds(MonotonicDuration.seconds(UInt64(ttl)).nanoseconds / 6)
    }

    /// Our own end of a lease: the send time of its last confirmed renewal, plus its TTL,
    /// minus `margin` (etcd cannot expire it before, since it starts the TTL when the renewal
    /// arrives).
    static func deadline(
        confirmedSend: MonotonicInstant, ttl: MonotonicDuration, margin: MonotonicDuration
    ) -> MonotonicInstant {
        confirmedSend + .nanoseconds(ttl.nanoseconds > margin.nanoseconds ? ttl.nanoseconds - margin.nanoseconds : 0)
    }

    /// Renewals every third of the TTL etcd granted.
    static func renewalInterval(of ttl: MonotonicDuration) -> MonotonicDuration { .nanoseconds(ttl.nanoseconds / 3) }
}
