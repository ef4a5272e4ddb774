import CARPCore

/// The one function that re-arms the guard after every event: timeouts, the lease deadline,
/// then the next call if none is in flight.
extension EtcdLeaseGuard {
    /// When the guard next needs ``deadlinePassed(at:)``: a call's timeout, the lease deadline,
    /// or the next call's time. Nil when it waits for nothing.
    public var nextDeadline: MonotonicInstant? {
        var candidates: [MonotonicInstant] = []
        if let lease, !keptWhileUnreachable { candidates.append(deadline(of: lease)) }
        if let inFlight {
            candidates.append(inFlight.expiresAt)
        } else if let due = nextCallTime {
            candidates.append(due)
        }
        return candidates.min()
    }

    /// Our own end of `lease`: the send time of its last confirmed renewal, plus TTL, minus margin.
    func deadline(of lease: Lease) -> MonotonicInstant {
        EtcdLeaseTiming.deadline(confirmedSend: lease.confirmedSend, ttl: lease.ttl, margin: configuration.margin)
    }

    /// Renewals every third of the TTL etcd granted.
    func renewalInterval(of ttl: MonotonicDuration) -> MonotonicDuration { EtcdLeaseTiming.renewalInterval(of: ttl) }

    /// When the next call is due, with nothing in flight; nil if none is.
    private var nextCallTime: MonotonicInstant? {
        if configuration.credentials != nil, token == nil {
            // Revokes need the token too: authenticate for them at once.
            if !revocations.isEmpty { return MonotonicInstant(nanoseconds: 0) }
            return wanting || isMaster || lookUpPending ? nextAuthentication : nil
        }
        if !revocations.isEmpty || lookUpPending { return MonotonicInstant(nanoseconds: 0) }
        if let lease {
            guard wanting, !holdsKey else { return lease.nextRenewal }
            // The holder's time left is asked for right after the try that found it.
            if wait?.asking == true { return MonotonicInstant(nanoseconds: 0) }
            return min(lease.nextRenewal, nextAcquire)
        }
        return wanting || isMaster ? nextGrant : nil
    }

    mutating func schedule(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        if let call = inFlight, now >= call.expiresAt {
            actions.append(.cancel(requestID: call.request.id))
            inFlight = nil
            let timeout = call.expiresAt.duration(since: call.sentAt).millisecondsRoundedUp
            actions += unanswered(call, reason: "no answer within \(timeout) ms", at: now)
        }
        actions += checkDeadline(at: now)
        if inFlight == nil, let due = nextCallTime, now >= due {
            actions += sendNextCall(at: now)
        }
        return actions
    }

    /// The lease deadline passed without a confirmed renewal.
    private mutating func checkDeadline(at now: MonotonicInstant) -> [Action] {
        guard let lease, !keptWhileUnreachable, now >= deadline(of: lease) else { return [] }
        let late = "lease \(lease.id) not renewed in time"
        if !isMaster {
            // Contending with a lease that may be dead: start again with a new one.
            return dropLease(lease, at: now) + [.log(.info, "etcd: \(late): asking for a new one")]
        }
        if configuration.unreachable == .keep {
            keptWhileUnreachable = true
            return [.log(.warning, "etcd: \(late): staying master while etcd is unreachable (--etcd-unreachable=keep)")]
        }
        return loseMastership(.leaseLost, "\(late): leaving MASTER before etcd can expire it", at: now)
    }

    /// Mastership taken back; the lease given up, revoked (best effort) at the next
    /// ``stopWanting(at:)``, once the daemon's down script has run, so that the key frees then.
    /// The daemon leaves MASTER, and so wants no more until it calls ``want(at:)`` again.
    mutating func loseMastership(_ reason: LossReason, _ why: String, at now: MonotonicInstant) -> [Action] {
        isMaster = false
        wanting = false
        keptWhileUnreachable = false
        var actions: [Action] = [.log(.warning, "etcd: \(why)"), .revokeMastership(reason: reason)]
        if let lease { actions += dropLease(lease, revokingLater: true, at: now) }
        return actions
    }

    /// Forget `lease` (revoking it, best effort, now or at the next ``stopWanting(at:)``) and
    /// any call made for it.
    mutating func dropLease(_ lease: Lease, revokingLater: Bool = false, at now: MonotonicInstant) -> [Action] {
        self.lease = nil
        holdsKey = false
        wait = nil
        if revokingLater { heldBack.append(lease.id) } else { revocations.append(lease.id) }
        nextGrant = now
        return cancelInFlight()
    }

    mutating func cancelInFlight() -> [Action] {
        guard let call = inFlight else { return [] }
        inFlight = nil
        return [.cancel(requestID: call.request.id)]
    }

    private mutating func sendNextCall(at now: MonotonicInstant) -> [Action] {
        let timeout = configuration.requestTimeout
        if let credentials = configuration.credentials, token == nil {
            return [
                send(.authenticate(user: credentials.user, password: credentials.password), timeout: timeout, at: now)
            ]
        }
        if !revocations.isEmpty {
            let lease = revocations.removeFirst()
            let announces = releasePending
            releasePending = false
            return [send(.revoke(lease: lease), timeout: timeout, at: now, announcesRelease: announces)]
        }
        if lookUpPending {
            lookUpPending = false
            if !wanting, !isMaster { return [send(.read(key: configuration.key), timeout: timeout, at: now)] }
        }
        guard let lease else {
            return [send(.grant(ttl: configuration.ttl), timeout: timeout, at: now)]
        }
        // Never wait past the deadline for an answer that would come too late to count.
        let deadline = deadline(of: lease)
        let bounded = keptWhileUnreachable || now >= deadline ? timeout : min(timeout, deadline.duration(since: now))
        if now >= lease.nextRenewal {
            return [send(.keepAlive(lease: lease.id), timeout: bounded, at: now)]
        }
        if var wait, wait.asking {
            wait.asking = false
            self.wait = wait
            return [send(.timeToLive(lease: wait.lease), timeout: bounded, at: now)]
        }
        return [
            send(
                .acquire(key: configuration.key, value: configuration.value, lease: lease.id), timeout: bounded, at: now
            )
        ]
    }

    mutating func send(
        _ call: EtcdCall, timeout: MonotonicDuration, at now: MonotonicInstant, announcesRelease: Bool = false
    ) -> Action {
        let request = Request(
            id: nextID, endpoint: endpoint, call: call, token: configuration.credentials == nil ? nil : token,
            timeout: timeout)
        nextID += 1
        inFlight = InFlight(request: request, sentAt: now, expiresAt: now + timeout, announcesRelease: announcesRelease)
        return .send(request)
    }
}
