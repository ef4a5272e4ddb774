import CARPCore

/// The etcd quorum guard of one virtual host: may this instance be MASTER? A state machine on
/// virtual time; the daemon carries out its requests and tells it the answers.
///
/// CARP still elects; the guard only gates mastership on holding an etcd key (derived from the
/// vhid and the address, the same on every host) bound to a lease of ours:
///
/// - **Taking the key.** When CARP would make us master the daemon calls ``want(at:)``. The
///   guard grants a lease, then takes the key in one transaction that creates it only if it is
///   absent (create revision 0), bound to the lease, and otherwise reads it so that the answer
///   names the holder. Only when the key is ours does it emit ``Action/grantMastership(lease:)``;
///   the daemon withholds the address (up script, gratuitous ARP) until then. While another
///   host holds the key it retries at the latest every ``Configuration/retryInterval`` (the
///   advert interval), and at once whenever ``want(at:)`` is called again: the daemon does so
///   when CARP sees a sign that the holder let go (its leaving advert, its silence).
/// - **Waiting for a dead holder's lease.** Each try that finds the key held by another lease
///   is followed by one `lease/timetolive` of that lease, and the next try is timed from its
///   answer (``Wait``): etcd gives the time left in whole seconds, rounded down, so a lease
///   with `t` ≥ 1 s left cannot end before the send time plus `t`, and the next try goes
///   then (never later than the interval); with less than a second left (0) or gone (-1) it
///   goes ``Configuration/endingRetry`` (250 ms) after the last, until the key is free: etcd
///   revokes an expired lease within its half-second check. Nothing is revoked early: the
///   key is still taken only by the transaction that finds it absent. A living holder renews
///   every third of the TTL, so its lease always has a second or more left (TTL ≥ 2 s) and
///   its challenger tries only once an interval. The load of a waiting backup: at most two
///   calls (a transaction and a timetolive) per retry interval, and per ``endingRetry`` in
///   the last second or so of the lease; an unknown or failing timetolive leaves today's
///   schedule, one try per interval. No watch stream: one POST per call keeps the HTTP client
///   simple.
/// - **Keeping it.** The lease is renewed every third of its TTL. The guard's own deadline is
///   the *send* time of the last confirmed renewal (or of the grant) plus the TTL minus
///   ``Configuration/margin``: etcd cannot expire the lease before that, since it starts its TTL
///   when it handles the request, after we sent it. Only this monotonic deadline is trusted; etcd
///   may extend leases when its leader changes, so its answers never push the deadline past
///   what our own send times allow.
/// - **Losing it.** When the deadline passes without a confirmed renewal the guard emits
///   ``Action/revokeMastership(reason:)`` with ``LossReason/leaseLost``, before etcd can hand the
///   key to another host; a keepalive answered without a TTL (the lease is gone) gives
///   ``LossReason/leaseExpired``. The lease we gave up is revoked, best effort, at the next
///   ``stopWanting(at:)`` (after the daemon's down script); the daemon, leaving MASTER, wants
///   no more until CARP makes it master again and it calls ``want(at:)``.
/// - **Leaving.** A master that leaves (shutdown, step-down, failed check, a preferred master's
///   advert) still has the address until its down script has run, so two holders never
///   overlap: it calls ``standDown(at:)`` first, which keeps the lease renewed but takes
///   nothing new, and ``stopWanting(at:)`` once the script is done: the guard revokes its lease
///   then, which deletes the key, and emits ``Action/released`` when etcd confirmed it or the
///   call failed or timed out. The daemon sends its leaving advert then, so that the next
///   host's transaction finds the key free: a planned hand-over costs the down script and one
///   round trip. A lease taken back (``Action/revokeMastership(reason:)``) is revoked only at
///   that ``stopWanting(at:)`` too: until etcd expires it, it keeps the key from the next host
///   while the down script runs, which ``Configuration/margin`` must leave time for.
/// - **Preemption.** The holder never gives the key up by itself, so a preferred host coming
///   back must make it yield through CARP: blocked by the key, it still advertises as the
///   master it would be, only without the address. The holder sees a better advert, CARP moves
///   it to BACKUP (a master yields to a better advert whether or not it preempts), and its
///   ``stopWanting(at:)`` revokes the lease; the preferred host's next attempt (at the latest one
///   retry interval later, at once on the holder's leaving advert) takes the key. No message
///   beyond CARP's is needed, and a host that is not preferred never takes the key from a
///   living holder.
/// - **etcd unreachable.** ``UnreachablePolicy/release`` (the default): the deadline rule
///   applies as it stands, so nobody holds the address while etcd is down. With
///   ``UnreachablePolicy/keep`` a master whose renewals go unanswered keeps mastership (it logs
///   why) and keeps trying; once etcd answers again it re-takes the key if its lease is gone,
///   and gives mastership up only if another host holds the key by then. Nobody new becomes
///   master while etcd is down, whatever the policy; but under `keep` a master cut off from
///   etcd while its peers still reach it may overlap with the one they elect.
/// - **Never blocking.** At most one call is in flight; each has a timeout (the request
///   timeout, never past the lease deadline) which the guard enforces itself: when it passes,
///   it emits ``Action/cancel(requestID:)`` and treats the call as failed. A dead endpoint makes
///   the next call go to the next endpoint; a full round of failures waits before retrying.
///
/// A key held by a lease that is not ours but carries our own value (an earlier run of this
/// host, or a lease we gave up whose revoke was lost) is revoked at once rather than waited for.
public struct EtcdLeaseGuard: Sendable {
    /// `--etcd-unreachable`: what a master does when etcd stops answering.
    public enum UnreachablePolicy: String, Sendable {
        /// Leave MASTER at the lease deadline: at most one master, possibly none.
        case release
        /// Stay MASTER while CARP agrees: always a master, possibly two under a partition.
        case keep
    }

    /// etcd user and password (`--etcd-user`, `--etcd-passfile`).
    public struct Credentials: Equatable, Sendable {
        public var user: String
        public var password: String

        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    public struct Configuration: Sendable {
        /// The key, e.g. `/swiftcarp/7/192.0.2.100`.
        public var key: String
        /// Who holds it: our source address and host name.
        public var value: String
        /// The lease TTL asked for, in seconds (etcd's minimum is 2).
        public var ttl: Int64
        /// Taken off the lease's TTL for our own deadline: clock drift and the time to drop the
        /// address, the down script's whole run, before etcd may give the key to another host.
        /// A sixth of the TTL by default (0.5 s for a TTL of 3 s).
        public var margin: MonotonicDuration
        /// How often to retry while another host holds the key or etcd fails: the advert interval.
        public var retryInterval: MonotonicDuration
        /// How often to try while the holder's lease is ending (etcd says less than a second
        /// left, or gone): 250 ms, or the retry interval if that is shorter.
        public var endingRetry: MonotonicDuration {
            min(.milliseconds(250), retryInterval)
        }
        /// The longest a call may take; a sixth of the TTL by default, so that a renewal that
        /// gets no answer leaves time for two more before the deadline.
        public var requestTimeout: MonotonicDuration
        public var unreachable: UnreachablePolicy
        public var credentials: Credentials?
        /// How many endpoints the daemon knows; ``Request/endpoint`` indexes them.
        public var endpointCount: Int

        public init(
            key: String, value: String, ttl: Int64, retryInterval: MonotonicDuration,
            unreachable: UnreachablePolicy = .release, credentials: Credentials? = nil, endpointCount: Int = 1,
            margin: MonotonicDuration? = nil, requestTimeout: MonotonicDuration? = nil
        ) {
            precondition(ttl >= 1 && endpointCount >= 1, "a lease TTL and an endpoint at least")
            let ttlDuration = MonotonicDuration.seconds(UInt64(ttl))
            self.key = key
            self.value = value
            self.ttl = ttl
            self.retryInterval = retryInterval
            self.unreachable = unreachable
            self.credentials = credentials
            self.endpointCount = endpointCount
            self.margin = margin ?? EtcdLeaseTiming.sixth(ofTTL: ttl)
            self.requestTimeout = requestTimeout ?? EtcdLeaseTiming.sixth(ofTTL: ttl)
            precondition(self.margin < ttlDuration, "the margin must leave part of the TTL")
        }
    }

    /// A call for the daemon to make: POST ``EtcdCall/path`` with ``EtcdGatewayCodec/body(of:)``
    /// to endpoint number `endpoint`, with `token` as `Authorization` when there is one, and
    /// answer with ``received(status:body:for:at:)`` or ``failed(requestID:reason:at:)``.
    public struct Request: Equatable, Sendable {
        public var id: UInt64
        public var endpoint: Int
        public var call: EtcdCall
        public var token: String?
        /// The HTTP client's own timeout; the guard cancels the call at the same point anyway.
        public var timeout: MonotonicDuration
    }

    /// Why mastership was taken back: scripts and logs are told.
    public enum LossReason: String, Sendable {
        /// No confirmed renewal before our own deadline.
        case leaseLost = "lease-lost"
        /// etcd says the lease is gone.
        case leaseExpired = "lease-expired"
        /// Another host holds the key (after etcd came back, under `keep`).
        case keyTaken = "key-taken"
    }

    public enum Action: Equatable, Sendable {
        case send(Request)
        /// Abort the transfer of this request; its answer is no longer wanted.
        case cancel(requestID: UInt64)
        /// The key is ours: the daemon may become MASTER.
        case grantMastership(lease: Int64)
        /// The daemon must leave MASTER now (its down script first, then ``stopWanting(at:)``).
        case revokeMastership(reason: LossReason)
        /// After ``stopWanting(at:)``: the lease is revoked (or that failed); send the leaving advert.
        case released
        /// The answer to ``lookUp(at:)``: who holds the key, nil if nobody does.
        case keyLookedUp(holder: EtcdKeyHolder?)
        case log(CARPStateMachine.LogLevel, String)
    }

    /// Our lease: its ID, its TTL as etcd granted it, and when we sent the call etcd last confirmed.
    struct Lease: Equatable, Sendable {
        var id: Int64
        var ttl: MonotonicDuration
        var confirmedSend: MonotonicInstant
        var nextRenewal: MonotonicInstant
    }

    /// A backup blocked by another host's lease: the try that found it, and whether the
    /// `lease/timetolive` that times the next try is still to be sent.
    struct Wait: Equatable, Sendable {
        var lease: Int64
        var triedAt: MonotonicInstant
        var asking: Bool
    }

    /// The call on the wire and what it was sent for.
    struct InFlight: Equatable, Sendable {
        var request: Request
        var sentAt: MonotonicInstant
        var expiresAt: MonotonicInstant
        /// The leaving revoke: its end is announced with ``Action/released``.
        var announcesRelease: Bool
    }

    public let configuration: Configuration
    /// The daemon wants to be master (CARP would make it so).
    public internal(set) var wanting = false
    /// Mastership granted and not taken back.
    public internal(set) var isMaster = false
    /// The last host seen holding the key while we wanted it, for logs and the USR1 line.
    public internal(set) var holder: EtcdKeyHolder?
    /// Why etcd is failing us, or nil while it answers.
    public internal(set) var problem: String?
    var lease: Lease?
    var holdsKey = false
    /// Under `keep`: a master that stayed master past its deadline, waiting for etcd.
    var keptWhileUnreachable = false
    var inFlight: InFlight?
    var token: String?
    var endpoint = 0
    var nextID: UInt64 = 1
    var failuresInARow = 0
    var nextGrant = MonotonicInstant(nanoseconds: 0)
    var nextAcquire = MonotonicInstant(nanoseconds: 0)
    /// The holder's lease we wait for, while wanting and blocked.
    var wait: Wait?
    var nextAuthentication = MonotonicInstant(nanoseconds: 0)
    /// Leases to revoke, best effort (one try each), before anything else is sent.
    var revocations: [Int64] = []
    /// The leaving revoke waits in `revocations` (first) when this is set.
    var releasePending = false
    /// Leases taken back from a master, revoked at the next ``stopWanting(at:)``: the daemon's
    /// down script runs first, and the key must not free under it.
    var heldBack: [Int64] = []
    /// A ``lookUp(at:)`` waits for the token (``Configuration/credentials``).
    var lookUpPending = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// etcd failed a whole round of endpoints since it last answered (unreachable, or refusing
    /// our credentials): ``problem`` says how.
    public var isFailing: Bool { problem != nil && failuresInARow >= configuration.endpointCount }

    /// The lease we hold or contend with, for logs, the USR1 line and the scripts.
    public var leaseID: Int64? { lease?.id }

    /// CARP would make us master: take the key (or retry now if another host holds it).
    public mutating func want(at now: MonotonicInstant) -> [Action] {
        lookUpPending = false
        if !wanting {
            wanting = true
            holder = nil
        }
        nextGrant = now
        nextAcquire = now
        wait = nil
        // The try goes now: a timetolive on the wire would only time a later one.
        var actions: [Action] = []
        if let call = inFlight, case .timeToLive = call.request.call { actions = cancelInFlight() }
        // Standing down with the key still ours (the down script was running): ours again.
        if isMaster, holdsKey, let lease { return actions + [.grantMastership(lease: lease.id)] + schedule(at: now) }
        return actions + schedule(at: now)
    }

    /// We leave MASTER but the address is still up until the down script has run: contend no
    /// more, keep the lease we hold renewed, revoke nothing until ``stopWanting(at:)``.
    public mutating func standDown(at now: MonotonicInstant) -> [Action] {
        wanting = false
        holder = nil
        wait = nil
        var actions: [Action] = []
        if let call = inFlight {
            switch call.request.call {
            case .grant, .acquire, .timeToLive: actions += cancelInFlight()
            case .keepAlive, .revoke, .authenticate, .read: break
            }
        }
        return actions + schedule(at: now)
    }

    /// We leave MASTER (the down script done), or no longer contend: revoke the lease first,
    /// with any taken back meanwhile, then ``Action/released``.
    public mutating func stopWanting(at now: MonotonicInstant) -> [Action] {
        wanting = false
        isMaster = false
        holdsKey = false
        keptWhileUnreachable = false
        holder = nil
        wait = nil
        var actions: [Action] = []
        // A revoke on the wire is let finish (it may be the leaving one of a first call).
        if let call = inFlight, case .revoke = call.request.call {} else { actions += cancelInFlight() }
        let leases = (lease.map { [$0.id] } ?? []) + heldBack
        heldBack = []
        lease = nil
        if !leases.isEmpty {
            revocations.insert(contentsOf: leases, at: 0)
            releasePending = true
        } else if !releasePending, inFlight?.announcesRelease != true {
            actions.append(.released)
        }
        return actions + schedule(at: now)
    }

    /// Whether `id` is the lease we hold now (not one taken back and held back for a revoke):
    /// a release of it may still be called off.
    public func holds(_ id: Int64) -> Bool { lease?.id == id }

    /// A term whose lease was taken back has let the address go (its down script ran) while a
    /// newer term contends for the key or holds it: revoke the leases held back for it, and only
    /// those (the newer term's lease and wish stay), then ``Action/released`` once etcd has
    /// confirmed (or the call failed).
    public mutating func releaseHeldBack(at now: MonotonicInstant) -> [Action] {
        guard !heldBack.isEmpty else {
            return releasePending || inFlight?.announcesRelease == true ? [] : [.released]
        }
        revocations.insert(contentsOf: heldBack, at: 0)
        heldBack = []
        releasePending = true
        return schedule(at: now)
    }

    /// A backup's look at the key (one `kv/range`), answered with ``Action/keyLookedUp(holder:)``:
    /// the daemon compares the holder with the master it hears. Only while the guard has
    /// nothing else to do (not wanting, not master, no call in flight); else nothing happens
    /// and the daemon asks again later. With credentials and no token yet it authenticates
    /// first, and reads once the token is there.
    public mutating func lookUp(at now: MonotonicInstant) -> [Action] {
        guard !wanting, !isMaster, inFlight == nil, revocations.isEmpty else { return [] }
        if let credentials = configuration.credentials, token == nil {
            lookUpPending = true
            return [
                send(
                    .authenticate(user: credentials.user, password: credentials.password),
                    timeout: configuration.requestTimeout, at: now)
            ]
        }
        return [send(.read(key: configuration.key), timeout: configuration.requestTimeout, at: now)]
    }

    /// etcd answered request `id` with this HTTP status and body.
    public mutating func received(status: Int, body: [UInt8], for id: UInt64, at now: MonotonicInstant) -> [Action] {
        guard let call = takeInFlight(id) else { return [] }
        var actions: [Action]
        do {
            let response = try EtcdGatewayCodec.decode(call.request.call, status: status, body: body)
            actions = answered(call, with: response, at: now)
        } catch {
            actions = refused(call, with: error, at: now)
        }
        return actions + schedule(at: now)
    }

    /// Request `id` got no answer: connection refused, TLS failure, the client's timeout.
    public mutating func failed(requestID id: UInt64, reason: String, at now: MonotonicInstant) -> [Action] {
        guard let call = takeInFlight(id) else { return [] }
        return unanswered(call, reason: reason, at: now) + schedule(at: now)
    }

    /// Time passed: call at ``nextDeadline`` (or any time; early calls do nothing).
    public mutating func deadlinePassed(at now: MonotonicInstant) -> [Action] {
        schedule(at: now)
    }

    private mutating func takeInFlight(_ id: UInt64) -> InFlight? {
        guard let call = inFlight, call.request.id == id else { return nil }
        inFlight = nil
        return call
    }
}
