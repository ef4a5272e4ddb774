import CARPCore

extension EtcdLeaseGuard {
    /// The guard as a successor takes it on (`ucarp --reload`): the lease held with its timers
    /// (absolute `CLOCK_MONOTONIC` instants) and whether the key and mastership are ours. Only
    /// a quiet guard is handed over: no call on the wire, nothing to revoke, etcd answering.
    public struct Snapshot: Equatable, Sendable {
        public struct HeldLease: Equatable, Sendable {
            public var id: Int64
            public var ttl: MonotonicDuration
            public var confirmedSend: MonotonicInstant
            public var nextRenewal: MonotonicInstant

            public init(
                id: Int64, ttl: MonotonicDuration, confirmedSend: MonotonicInstant, nextRenewal: MonotonicInstant
            ) {
                self.id = id
                self.ttl = ttl
                self.confirmedSend = confirmedSend
                self.nextRenewal = nextRenewal
            }
        }

        public var lease: HeldLease?
        public var holdsKey: Bool
        public var isMaster: Bool
        public var wanting: Bool

        public init(lease: HeldLease?, holdsKey: Bool, isMaster: Bool, wanting: Bool) {
            self.lease = lease
            self.holdsKey = holdsKey
            self.isMaster = isMaster
            self.wanting = wanting
        }
    }

    /// The guard's state for a successor; nil while it is not quiet (a call in flight, leases
    /// to revoke, etcd failing, a look-up waiting): the reload is put off.
    public var snapshot: Snapshot? {
        guard inFlight == nil, revocations.isEmpty, heldBack.isEmpty, !releasePending, !lookUpPending,
            !keptWhileUnreachable, problem == nil
        else { return nil }
        return Snapshot(
            lease: lease.map {
                .init(id: $0.id, ttl: $0.ttl, confirmedSend: $0.confirmedSend, nextRenewal: $0.nextRenewal)
            },
            holdsKey: holdsKey, isMaster: isMaster, wanting: wanting)
    }

    /// Takes on a predecessor's guard, before any other event: the next renewal on the
    /// deadline it had, on the lease it held (the no-overlap rule is untouched: the same
    /// lease, on the same endpoints).
    public mutating func resume(_ snapshot: Snapshot) {
        lease = snapshot.lease.map {
            Lease(id: $0.id, ttl: $0.ttl, confirmedSend: $0.confirmedSend, nextRenewal: $0.nextRenewal)
        }
        holdsKey = snapshot.holdsKey
        isMaster = snapshot.isMaster
        wanting = snapshot.wanting
    }
}
