import CARPCore
import EtcdGuard
import UCarpConfiguration

/// `--etcd`: what the instance keeps about the lease guard (``EtcdLeaseGuard``): where this
/// host's mastership stands (``Term``), a leaving master's release (``Release``), the master
/// a backup hears (``HeardMaster``), preemption held off while etcd fails.
///
/// The states carry their data, as the election's do: a lease exists only where one is held,
/// a leaving advert only where it waits, a look-up only while a master is heard.
struct EtcdGate {
    /// An advertisement CARP asked for, held for later.
    struct Advert: Equatable {
        var advbase: UInt8
        var advskew: UInt8
        var counter: UInt64
    }

    /// Where this host's mastership stands under the guard.
    enum Term: Equatable {
        /// CARP does not make us master (or the term ended).
        case none
        /// CARP made us master (from this role, for this reason): reported once the key is
        /// ours. `lease`: a lease still ours from the term before, whose release was called
        /// off before its revoke (the scripts and the state file go on naming it).
        case waiting(from: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason, lease: Int64?)
        /// Mastership granted and reported, under `lease`; a leaving advert CARP asked for
        /// waits until the change that follows it says what to do.
        case holding(lease: Int64, leavingAdvert: Advert?)
    }

    /// A granted master that left: its down script runs, then the lease is revoked, then its
    /// leaving advert goes out, so that the next host finds the key free only once the address
    /// is gone here.
    enum Release: Equatable {
        /// The down script runs (the last of them, with several addresses).
        case downScript(lease: Int64, advert: Advert?)
        /// The revoke is asked for; at most until `deadline` (etcd frees the key by itself within
        /// the TTL).
        case revoking(lease: Int64, advert: Advert?, deadline: MonotonicInstant)

        var advert: Advert? {
            switch self {
            case .downScript(_, let advert), .revoking(_, let advert, _): advert
            }
        }

        var lease: Int64 {
            switch self {
            case .downScript(let lease, _), .revoking(let lease, _, _): lease
            }
        }

        /// The bound of a revoke in flight.
        var deadline: MonotonicInstant? {
            guard case .revoking(_, _, let deadline) = self else { return nil }
            return deadline
        }
    }

    /// As BACKUP: the master heard (its source address), since when and last when; whether it
    /// holds the key is looked up (``EtcdLeaseGuard/lookUp(at:)``) at `nextLookUp`.
    struct HeardMaster: Equatable {
        var source: IPAddress
        var since: MonotonicInstant
        var last: MonotonicInstant
        var nextLookUp: MonotonicInstant
    }

    /// How often a master heard is looked up again once it was.
    static let lookUpEvery = MonotonicDuration.seconds(30)

    var lease: EtcdLeaseGuard
    let key: String
    /// The lease's TTL: the longest a revoke is waited for.
    let ttl: MonotonicDuration
    /// How long a master is heard before its key is looked up.
    let lookUpAfter: MonotonicDuration
    private(set) var term = Term.none
    private(set) var release: Release?
    private(set) var heardMaster: HeardMaster?
    /// What the last look-up found wrong with the master heard (the warning), said once.
    private(set) var lastFinding: String?
    /// Preemption suspended (etcd failing a blocked would-be master): when to try etcd again.
    private(set) var nextProbe: MonotonicInstant?
    /// Masterships the guard took back.
    private(set) var losses = 0

    init?(settings: Settings, hostName: String) {
        guard let etcd = settings.etcd, let key = settings.etcdKey else { return nil }
        let interval = AdvertisementInterval(base: settings.advbase, skew: settings.advskew).duration
        self.key = key
        ttl = .seconds(UInt64(max(etcd.ttl, 1)))
        lookUpAfter = .seconds(UInt64(2 * etcd.ttl))
        lease = EtcdLeaseGuard(
            configuration: .init(
                key: key,
                value: EtcdHolder(sourceAddress: settings.sourceAddress, hostName: hostName).value,
                ttl: etcd.ttl, retryInterval: max(interval, .milliseconds(100)),
                unreachable: etcd.unreachable == .keep ? .keep : .release,
                credentials: etcd.user.flatMap { user in etcd.password.map { .init(user: user, password: $0) } },
                endpointCount: etcd.endpoints.count))
    }

    /// Mastership granted by the guard and reported.
    var granted: Bool {
        guard case .holding = term else { return false }
        return true
    }

    /// CARP's master term waiting for the key: from this role, for this reason.
    var pendingMaster: (from: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason)? {
        guard case .waiting(let from, let reason, _) = term else { return nil }
        return (from, reason)
    }

    /// The lease we hold while MASTER (and while letting it go), for the scripts, the state
    /// file and the metrics.
    var heldLease: Int64? {
        switch term {
        case .holding(let lease, _): lease
        case .waiting(_, _, let lease?): lease
        case .waiting, .none: release?.lease
        }
    }

    /// The guard's next deadline, the release's bound, a look-up or a probe due.
    var nextDeadline: MonotonicInstant? {
        [lease.nextDeadline, release?.deadline, heardMaster?.nextLookUp, nextProbe].compactMap { $0 }.min()
    }

    /// The lease's part of the USR1 status.
    var statusLine: String {
        var parts = ["etcd: key \(key)"]
        if let heldLease {
            parts.append("held with lease \(heldLease)")
        } else if let holder = lease.holder {
            parts.append("held by \(holder.value) (lease \(holder.lease))")
        } else {
            parts.append(lease.wanting ? "being taken" : "not wanted")
        }
        if let problem = lease.problem { parts.append("problem: \(problem)") }
        return parts.joined(separator: ", ")
    }

    // MARK: Mastership

    /// CARP made us master: wait for the key. A release whose down script still runs is
    /// called off while its lease is still ours (the lease stays ours); one whose lease the
    /// guard took back meanwhile, or whose revoke is in flight, goes on: the key must not free
    /// before that down script has run.
    mutating func carpMadeMaster(from: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason) {
        var kept: Int64?
        if case .downScript(let lease, _)? = release, self.lease.holds(lease) {
            kept = lease
            release = nil
        }
        term = .waiting(from: from, reason: reason, lease: kept)
        heardMaster = nil
    }

    /// The key is ours: the term waiting is granted; nil if none waits.
    mutating func grant(
        _ lease: Int64
    ) -> (from: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason)? {
        guard case .waiting(let from, let reason, _) = term else { return nil }
        term = .holding(lease: lease, leavingAdvert: nil)
        return (from, reason)
    }

    /// A granted master's leaving advert waits for the change that follows it; false when
    /// not granted (the advert goes out at once).
    mutating func hold(_ advert: Advert) -> Bool {
        guard case .holding(let lease, _) = term else { return false }
        term = .holding(lease: lease, leavingAdvert: advert)
        return true
    }

    /// CARP took us out of MASTER: the term ends. A granted one begins its release (down
    /// script, then revoke) and is returned with its held advert; nil if it was not granted.
    mutating func leftMaster() -> Release? {
        defer { term = .none }
        guard case .holding(let lease, let advert) = term else { return nil }
        release = .downScript(lease: lease, advert: advert)
        return release
    }

    /// The down script is done: the revoke goes out, bounded by one TTL. False unless a
    /// down script was what the release waited for.
    mutating func revoke(at now: MonotonicInstant) -> Bool {
        guard case .downScript(let lease, let advert)? = release else { return false }
        release = .revoking(lease: lease, advert: advert, deadline: now + ttl)
        return true
    }

    /// Whether the release waits for its down script.
    var releaseWaitsForDownScript: Bool {
        guard case .downScript? = release else { return false }
        return true
    }

    /// The revoke is confirmed (or its bound passed): the release ends, its advert to send.
    /// nil unless a revoke was in flight.
    mutating func released() -> Release? {
        guard let release, release.deadline != nil else { return nil }
        self.release = nil
        return release
    }

    /// The guard took mastership back.
    mutating func countLoss() {
        losses += 1
    }

    // MARK: The master heard

    /// An advert heard from `source` as BACKUP: the same master heard again, or a new one
    /// whose key is looked up after ``lookUpAfter``.
    mutating func heard(_ source: IPAddress, at now: MonotonicInstant) {
        if heardMaster?.source == source {
            heardMaster?.last = now
        } else {
            heardMaster = HeardMaster(source: source, since: now, last: now, nextLookUp: now + lookUpAfter)
        }
    }

    mutating func forgetHeardMaster() {
        heardMaster = nil
    }

    /// The next look-up of the master heard.
    mutating func lookUpAgain(at next: MonotonicInstant) {
        heardMaster?.nextLookUp = next
    }

    /// A finding's warning, if it differs from the last one said (nil: nothing wrong).
    mutating func newFinding(_ message: String?) -> Bool {
        guard message != lastFinding else { return false }
        lastFinding = message
        return true
    }

    // MARK: Preemption held off

    mutating func probe(at next: MonotonicInstant?) {
        nextProbe = next
    }

    // MARK: Reload

    /// Whether the gate can be handed to a successor (`ucarp --reload`): no release under way,
    /// no master term waiting for the key, the guard quiet.
    var quiet: Bool {
        if release != nil || nextProbe != nil { return false }
        switch term {
        case .waiting, .holding(_, leavingAdvert: .some): return false
        case .none, .holding: return lease.snapshot != nil
        }
    }

    /// The gate for a successor: the guard, and the lease of a granted term; nil unless ``quiet``.
    var snapshot: (guard: EtcdLeaseGuard.Snapshot, grantedLease: Int64?)? {
        guard quiet, let guardSnapshot = lease.snapshot else { return nil }
        if case .holding(let lease, _) = term { return (guardSnapshot, lease) }
        return (guardSnapshot, nil)
    }

    /// A predecessor's gate: its guard, and the lease of a granted term.
    mutating func resume(_ guardSnapshot: EtcdLeaseGuard.Snapshot, grantedLease: Int64?) {
        lease.resume(guardSnapshot)
        term = grantedLease.map { .holding(lease: $0, leavingAdvert: nil) } ?? .none
    }
}
