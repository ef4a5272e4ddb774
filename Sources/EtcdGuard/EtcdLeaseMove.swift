import CARPCore

/// A master's hold on the key moved to new etcd settings (`ucarp --reload` with other `--etcd`
/// endpoints, another key, or `--etcd` added), make before break: a state machine on virtual
/// time, beside the guard that still renews the lease held now.
///
/// - **Looking.** It reads the key at the new endpoints first. Bound to the lease held now with
///   our value (the same cluster reached by other endpoints, a member added to the list): the
///   lease is kept, no second one (``Outcome/kept(lease:)``). Held by another host (or another
///   lease of ours): the move is refused, naming the holder.
/// - **Taking.** Absent: a lease is granted there and the key put only if still absent (the
///   guard's transaction); the key then ours, the move has succeeded (``Outcome/moved(_:)``) and
///   keeps renewing the new lease until the successor takes it on (``heldLease``).
/// - **Giving up.** Past ``Configuration/bound`` without success (the new endpoints silent or
///   failing), when the key turns out held, or when ``abandon(_:at:)`` is called (the instance
///   left MASTER, or is leaving), a lease granted is revoked (one try) and the move ends
///   refused with one line naming why; the guard of the old settings never stopped.
///
/// Its requests carry IDs from ``firstRequestID`` on, apart from the guard's.
public struct EtcdLeaseMove: Sendable {
    public struct Configuration: Sendable {
        /// The key under the new settings.
        public var key: String
        /// Our value under the key (source address and host name).
        public var value: String
        public var ttl: Int64
        public var credentials: EtcdLeaseGuard.Credentials?
        public var endpointCount: Int
        /// The lease held under the old settings, nil without (`--etcd` added).
        public var currentLease: Int64?
        /// The longest the move may take: then it is refused.
        public var bound: MonotonicDuration
        /// The longest a call may take, as the guard's (``EtcdLeaseTiming``).
        public var requestTimeout: MonotonicDuration
        /// Taken off the new lease's TTL for our own deadline, as the guard does.
        public var margin: MonotonicDuration

        public init(
            key: String, value: String, ttl: Int64, credentials: EtcdLeaseGuard.Credentials? = nil,
            endpointCount: Int, currentLease: Int64?, bound: MonotonicDuration
        ) {
            precondition(ttl >= 1 && endpointCount >= 1, "a lease TTL and an endpoint at least")
            self.key = key
            self.value = value
            self.ttl = ttl
            self.credentials = credentials
            self.endpointCount = endpointCount
            self.currentLease = currentLease
            self.bound = bound
            requestTimeout = EtcdLeaseTiming.sixth(ofTTL: ttl)
            margin = EtcdLeaseTiming.sixth(ofTTL: ttl)
        }
    }

    /// How the move ended.
    public enum Outcome: Equatable, Sendable {
        /// The key is ours under the new settings, with this new lease.
        case moved(EtcdLeaseGuard.Snapshot.HeldLease)
        /// The key under the new settings is already bound to the lease held now: kept.
        case kept(lease: Int64)
        /// Not moved: why, in one line.
        case refused(String)
    }

    public enum Action: Equatable, Sendable {
        /// A call to the NEW endpoints (``EtcdLeaseGuard/Request/endpoint`` indexes them).
        case send(EtcdLeaseGuard.Request)
        case cancel(requestID: UInt64)
        /// The move's outcome, once; a moved lease lost afterwards ends it again, refused.
        case ended(Outcome)
        case log(CARPStateMachine.LogLevel, String)
    }

    enum Step: Equatable {
        case reading
        case granting
        case acquiring(EtcdLeaseGuard.Snapshot.HeldLease)
        /// Moved: renewing the new lease until it is handed over.
        case holding(EtcdLeaseGuard.Snapshot.HeldLease)
        /// Given up: the new lease is revoked (one try), then it ends with `refusal`.
        case revoking(lease: Int64, refusal: String)
        case finished(Outcome)
    }

    struct InFlight: Equatable, Sendable {
        var request: EtcdLeaseGuard.Request
        var sentAt: MonotonicInstant
        var expiresAt: MonotonicInstant
    }

    /// The move's request IDs start here, far above the guard's.
    public static let firstRequestID: UInt64 = 1 << 48

    public let configuration: Configuration
    let startedAt: MonotonicInstant
    private(set) var step = Step.reading
    private(set) var inFlight: InFlight?
    private var token: String?
    private var endpoint = 0
    private var failuresInARow = 0
    private var nextCall: MonotonicInstant
    private var nextID = EtcdLeaseMove.firstRequestID
    /// The last failure, for the refusal when the bound passes.
    private var problem: String?

    public init(configuration: Configuration, at now: MonotonicInstant) {
        self.configuration = configuration
        startedAt = now
        nextCall = now
    }

    /// The first call.
    public mutating func start(at now: MonotonicInstant) -> [Action] {
        schedule(at: now)
    }

    /// Whether `id` is one of the move's requests.
    public static func owns(_ id: UInt64) -> Bool { id >= firstRequestID }

    /// The outcome once the move has ended, nil while it goes on.
    public var outcome: Outcome? {
        switch step {
        case .finished(let outcome): outcome
        case .holding(let lease): .moved(lease)
        case .reading, .granting, .acquiring, .revoking: nil
        }
    }

    /// The new lease as it stands now (its last confirmed renewal), for the successor.
    public var heldLease: EtcdLeaseGuard.Snapshot.HeldLease? {
        guard case .holding(let lease) = step else { return nil }
        return lease
    }

    /// Whether nothing is on the wire: the new lease can be handed over as it is.
    public var quiet: Bool { inFlight == nil }

    /// When ``deadlinePassed(at:)`` is next due; nil when the move waits for nothing.
    public var nextDeadline: MonotonicInstant? {
        var candidates: [MonotonicInstant] = []
        if let inFlight { candidates.append(inFlight.expiresAt) } else if let due = dueCall { candidates.append(due) }
        switch step {
        case .reading, .granting: candidates.append(startedAt + configuration.bound)
        case .acquiring(let lease): candidates += [startedAt + configuration.bound, deadline(of: lease)]
        case .holding(let lease): candidates.append(deadline(of: lease))
        case .revoking, .finished: break
        }
        return candidates.min()
    }

    /// The move is called off (the instance left MASTER, or is leaving): a new lease is revoked.
    public mutating func abandon(_ why: String, at now: MonotonicInstant) -> [Action] {
        switch step {
        case .finished, .revoking: return []
        case .reading, .granting: return cancelInFlight() + finish(.refused(why))
        case .acquiring(let lease), .holding(let lease):
            return cancelInFlight() + giveUp(lease.id, why, at: now) + schedule(at: now)
        }
    }

    // MARK: Events

    public mutating func received(status: Int, body: [UInt8], for id: UInt64, at now: MonotonicInstant) -> [Action] {
        guard let call = inFlight, call.request.id == id else { return [] }
        inFlight = nil
        var actions: [Action]
        do {
            let response = try EtcdGatewayCodec.decode(call.request.call, status: status, body: body)
            actions = answered(call, response, at: now)
        } catch {
            if error.isInvalidToken, configuration.credentials != nil, token != nil {
                token = nil
                actions = [.log(.info, "etcd: token refused at the new endpoints: authenticating again")]
            } else if error.isLeaseNotFound, case .revoking(let id, let refusal) = step {
                actions =
                    [.log(.debug, "etcd: lease \(id) at the new endpoints was already gone")]
                    + finish(.refused(refusal))
            } else if error.isLeaseNotFound, case .acquiring(let lease) = step {
                actions = [.log(.info, "etcd: lease \(lease.id) at the new endpoints is gone: asking for another")]
                step = .granting
            } else if error.isLeaseNotFound, case .holding(let lease) = step {
                actions = finish(.refused("etcd: the new lease \(lease.id) has expired before the reload"))
            } else {
                actions = unanswered(call, "\(error)", at: now)
            }
        }
        return actions + schedule(at: now)
    }

    public mutating func failed(requestID id: UInt64, reason: String, at now: MonotonicInstant) -> [Action] {
        guard let call = inFlight, call.request.id == id else { return [] }
        inFlight = nil
        return unanswered(call, reason, at: now) + schedule(at: now)
    }

    public mutating func deadlinePassed(at now: MonotonicInstant) -> [Action] {
        schedule(at: now)
    }

    // MARK: Internals

    private mutating func answered(_ call: InFlight, _ response: EtcdResponse, at now: MonotonicInstant) -> [Action] {
        failuresInARow = 0
        problem = nil
        switch (call.request.call, response, step) {
        case (.authenticate, .authenticated(let token), _):
            self.token = token
            return []
        case (.read, .held(let holder), .reading):
            guard let holder else {
                step = .granting
                return [.log(.info, "etcd: key \(configuration.key) is free at the new endpoints: taking it")]
            }
            if holder.value == configuration.value, holder.lease == configuration.currentLease {
                return [
                    .log(
                        .info,
                        "etcd: key \(configuration.key) at the new endpoints is bound to our lease \(holder.lease): keeping it"
                    )
                ]
                    + finish(.kept(lease: holder.lease))
            }
            return finish(.refused(heldLine(holder)))
        case (.grant, .granted(let id, let seconds), .granting):
            let ttl = MonotonicDuration.seconds(UInt64(min(max(seconds, 1), configuration.ttl)))
            let lease = EtcdLeaseGuard.Snapshot.HeldLease(
                id: id, ttl: ttl, confirmedSend: call.sentAt, nextRenewal: call.sentAt + renewal(of: ttl))
            step = .acquiring(lease)
            return [.log(.debug, "etcd: lease \(id) granted at the new endpoints for \(seconds) s")]
        case (.acquire, .acquired, .acquiring(let lease)):
            step = .holding(lease)
            return [
                .log(.info, "etcd: key \(configuration.key) taken at the new endpoints with lease \(lease.id)"),
                .ended(.moved(lease)),
            ]
        case (.acquire, .held(let holder), .acquiring(let lease)):
            guard let holder else {
                // Deleted between the compare and the read: try again at once.
                nextCall = now
                return []
            }
            // Our own put, applied though its answer was lost (a retry): the key is ours.
            if holder.lease == lease.id {
                step = .holding(lease)
                return [
                    .log(.info, "etcd: key \(configuration.key) taken at the new endpoints with lease \(lease.id)"),
                    .ended(.moved(lease)),
                ]
            }
            return giveUp(lease.id, heldLine(holder), at: now)
        case (.keepAlive, .renewed(let seconds), .holding(var lease)):
            lease.ttl = .seconds(UInt64(min(max(seconds, 1), configuration.ttl)))
            lease.confirmedSend = call.sentAt
            lease.nextRenewal = call.sentAt + renewal(of: lease.ttl)
            step = .holding(lease)
            return []
        case (.keepAlive, .leaseGone, .holding(let lease)):
            return finish(.refused("etcd: the new lease \(lease.id) has expired before the reload"))
        case (.revoke(let id), .revoked, .revoking(_, let refusal)):
            return [.log(.info, "etcd: lease \(id) at the new endpoints revoked")] + finish(.refused(refusal))
        default:
            return []
        }
    }

    private func heldLine(_ holder: EtcdKeyHolder) -> String {
        "etcd: the key \(configuration.key) is held by \(holder.value) (lease \(holder.lease)) at the new endpoints"
    }

    private mutating func unanswered(_ call: InFlight, _ reason: String, at now: MonotonicInstant) -> [Action] {
        failuresInARow += 1
        let failed = call.request.endpoint
        endpoint = (failed + 1) % configuration.endpointCount
        problem = "\(call.request.call.name) at new endpoint \(failed + 1) failed: \(reason)"
        if case .revoking(let id, let refusal) = step {
            return [
                .log(.info, "etcd: lease \(id) at the new endpoints not revoked (\(reason)): it expires within its TTL")
            ]
                + finish(.refused(refusal))
        }
        // After a whole round of failures, pause a request timeout before the next try.
        let roundFailed = failuresInARow >= configuration.endpointCount
        nextCall = max(now, call.sentAt + (roundFailed ? configuration.requestTimeout : .nanoseconds(0)))
        if case .holding(var lease) = step, case .keepAlive = call.request.call {
            lease.nextRenewal = nextCall
            step = .holding(lease)
        }
        return [.log(.debug, "etcd: \(problem ?? reason)")]
    }

    /// The new lease revoked, then the refusal.
    private mutating func giveUp(_ lease: Int64, _ refusal: String, at now: MonotonicInstant) -> [Action] {
        step = .revoking(lease: lease, refusal: refusal)
        nextCall = now
        return []
    }

    private mutating func finish(_ outcome: Outcome) -> [Action] {
        step = .finished(outcome)
        return [.ended(outcome)]
    }

    private mutating func cancelInFlight() -> [Action] {
        guard let call = inFlight else { return [] }
        inFlight = nil
        return [.cancel(requestID: call.request.id)]
    }

    private func deadline(of lease: EtcdLeaseGuard.Snapshot.HeldLease) -> MonotonicInstant {
        EtcdLeaseTiming.deadline(confirmedSend: lease.confirmedSend, ttl: lease.ttl, margin: configuration.margin)
    }

    private func renewal(of ttl: MonotonicDuration) -> MonotonicDuration { EtcdLeaseTiming.renewalInterval(of: ttl) }

    /// When the next call is due, nothing being in flight; nil if none is.
    private var dueCall: MonotonicInstant? {
        switch step {
        case .reading, .granting, .acquiring, .revoking: nextCall
        case .holding(let lease): lease.nextRenewal
        case .finished: nil
        }
    }

    private mutating func schedule(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        if let call = inFlight, now >= call.expiresAt {
            actions.append(.cancel(requestID: call.request.id))
            inFlight = nil
            actions += unanswered(
                call, "no answer within \(call.expiresAt.duration(since: call.sentAt).millisecondsRoundedUp) ms",
                at: now)
        }
        actions += checkBounds(at: now)
        if inFlight == nil, let due = dueCall, now >= due { actions += sendNext(at: now) }
        return actions
    }

    /// The move's bound, and the new lease's own deadline.
    private mutating func checkBounds(at now: MonotonicInstant) -> [Action] {
        switch step {
        case .reading, .granting:
            guard now >= startedAt + configuration.bound else { return [] }
            return cancelInFlight() + finish(.refused(timedOut))
        case .acquiring(let lease):
            if now >= deadline(of: lease) || now >= startedAt + configuration.bound {
                return cancelInFlight() + giveUp(lease.id, timedOut, at: now)
            }
            return []
        case .holding(let lease):
            guard now >= deadline(of: lease) else { return [] }
            return cancelInFlight()
                + giveUp(lease.id, "etcd: the new lease \(lease.id) was not renewed in time", at: now)
        case .revoking, .finished:
            return []
        }
    }

    private var timedOut: String {
        let seconds = configuration.bound.nanoseconds / 1_000_000_000
        return "etcd: the new endpoints did not answer within \(seconds) s"
            + (problem.map { " (\($0))" } ?? "")
    }

    private mutating func sendNext(at now: MonotonicInstant) -> [Action] {
        let call: EtcdCall
        if let credentials = configuration.credentials, token == nil {
            call = .authenticate(user: credentials.user, password: credentials.password)
        } else {
            switch step {
            case .reading: call = .read(key: configuration.key)
            case .granting: call = .grant(ttl: configuration.ttl)
            case .acquiring(let lease):
                call = .acquire(key: configuration.key, value: configuration.value, lease: lease.id)
            case .holding(let lease): call = .keepAlive(lease: lease.id)
            case .revoking(let lease, _): call = .revoke(lease: lease)
            case .finished: return []
            }
        }
        let request = EtcdLeaseGuard.Request(
            id: nextID, endpoint: endpoint, call: call, token: configuration.credentials == nil ? nil : token,
            timeout: configuration.requestTimeout)
        nextID += 1
        inFlight = InFlight(request: request, sentAt: now, expiresAt: now + configuration.requestTimeout)
        return [.send(request)]
    }
}
