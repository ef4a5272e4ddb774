import CARPCore

/// What each answer, error body or silence from etcd does to the guard.
extension EtcdLeaseGuard {
    /// A success body, decoded.
    mutating func answered(_ call: InFlight, with response: EtcdResponse, at now: MonotonicInstant) -> [Action] {
        var actions = reachable()
        switch (call.request.call, response) {
        case (.grant, .granted(let id, let seconds)):
            let ttl = trustedTTL(seconds)
            lease = Lease(
                id: id, ttl: ttl, confirmedSend: call.sentAt, nextRenewal: call.sentAt + renewalInterval(of: ttl))
            nextAcquire = now
            wait = nil
            actions.append(.log(.debug, "etcd: lease \(id) granted for \(seconds) s"))
        case (.acquire(_, _, let id), .acquired):
            actions += tookKey(with: id, at: now)
        case (.acquire(_, _, let id), .held(let holder)):
            actions += keyHeld(by: holder, against: id, triedAt: call.sentAt, at: now)
        case (.timeToLive(let id), .timeToLive(let seconds)):
            actions += timed(id, seconds: seconds, askedAt: call.sentAt)
        case (.keepAlive(let id), .renewed(let seconds)):
            actions += renewed(id, for: trustedTTL(seconds), sentAt: call.sentAt, at: now)
        case (.keepAlive(let id), .leaseGone):
            actions += leaseGone(id, at: now)
        case (.revoke(let id), .revoked):
            actions += revokeEnded(call, "etcd: lease \(id) revoked")
        case (.authenticate, .authenticated(let token)):
            self.token = token
        case (.read, .held(let holder)):
            actions.append(.keyLookedUp(holder: holder))
        default:
            // The codec answers each call with its own kind of response only.
            break
        }
        return actions
    }

    /// The TTL etcd answered, as far as our own deadline may use it: at least a second, and
    /// never more than we asked for (a larger one, from a confused or hostile answer, would put
    /// the deadline past what etcd promised; a huge one would overflow the clock).
    func trustedTTL(_ seconds: Int64) -> MonotonicDuration {
        .seconds(UInt64(min(max(seconds, 1), configuration.ttl)))
    }

    /// An error body: a dead lease and an expired token are answers; the rest are failures.
    mutating func refused(_ call: InFlight, with error: EtcdGatewayError, at now: MonotonicInstant) -> [Action] {
        if error.isInvalidToken, configuration.credentials != nil, token != nil {
            token = nil
            nextAuthentication = now
            retry(call, at: now)
            return [.log(.info, "etcd: token refused (\(error)): authenticating again")]
        }
        if case .timeToLive(let id) = call.request.call {
            // etcd answered, only not this: the tries keep their interval.
            return reachable() + [.log(.debug, "etcd: timetolive of lease \(id) refused (\(error))")]
        }
        if error.isLeaseNotFound {
            switch call.request.call {
            case .keepAlive(let id), .acquire(_, _, let id): return reachable() + leaseGone(id, at: now)
            case .revoke(let id): return reachable() + revokeEnded(call, "etcd: lease \(id) was already gone")
            case .grant, .authenticate, .read, .timeToLive: break
            }
        }
        if case .authenticate(let user, _) = call.request.call, case .server = error {
            return unanswered(call, reason: "authentication as \(user) refused: \(error)", at: now)
        }
        return unanswered(call, reason: "\(error)", at: now)
    }

    /// No usable answer: the call failed, timed out, or etcd refused it. Next endpoint; after a
    /// whole round of failures, wait before the next try.
    mutating func unanswered(_ call: InFlight, reason: String, at now: MonotonicInstant) -> [Action] {
        failuresInARow += 1
        let failedEndpoint = call.request.endpoint
        endpoint = (failedEndpoint + 1) % configuration.endpointCount
        let problem = "\(call.request.call.name) at endpoint \(failedEndpoint + 1) failed: \(reason)"
        var actions: [Action] = []
        if self.problem == nil {
            let consequence = isMaster ? "" : ", may not be master"
            actions.append(.log(.warning, "etcd: unreachable\(consequence): \(problem)"))
        }
        self.problem = problem
        // The pause counts from the send time: a call that timed out has waited long enough.
        let roundFailed = failuresInARow >= configuration.endpointCount
        let pause = roundFailed ? configuration.retryInterval : .nanoseconds(0)
        let retry = max(now, call.sentAt + pause)
        switch call.request.call {
        case .grant: nextGrant = retry
        case .acquire: nextAcquire = retry
        // A failed timetolive leaves the next try at its interval.
        case .read, .timeToLive: break
        case .authenticate:
            nextAuthentication = retry
            // Without a token no revoke can go out: give them up (the leases expire by
            // themselves) rather than retry in a loop, and let a leaving master go.
            if releasePending, let lease = revocations.first {
                actions += [
                    .log(.info, "etcd: lease \(lease) not revoked (\(reason)): it expires within its TTL"), .released,
                ]
            }
            revocations = []
            releasePending = false
            // The daemon looks up again later.
            lookUpPending = false
        case .keepAlive(let id):
            if var lease, lease.id == id {
                // Renewals retry sooner: a few tries fit before the deadline.
                let quarter = MonotonicDuration.nanoseconds(renewalInterval(of: lease.ttl).nanoseconds / 4)
                lease.nextRenewal = max(now, call.sentAt + (roundFailed ? quarter : .nanoseconds(0)))
                self.lease = lease
            }
        case .revoke(let id):
            actions += revokeEnded(call, "etcd: lease \(id) not revoked (\(reason)): it expires within its TTL")
        }
        return actions
    }

    /// An answer, after failures: say so once.
    private mutating func reachable() -> [Action] {
        failuresInARow = 0
        guard problem != nil else { return [] }
        problem = nil
        return [.log(.info, "etcd: answering again")]
    }

    /// Make `call` again as soon as the token is back.
    private mutating func retry(_ call: InFlight, at now: MonotonicInstant) {
        switch call.request.call {
        case .grant: nextGrant = now
        case .acquire: nextAcquire = now
        case .authenticate: nextAuthentication = now
        case .read: lookUpPending = !wanting && !isMaster
        case .timeToLive:
            if var wait, wanting {
                wait.asking = true
                self.wait = wait
            }
        case .keepAlive(let id):
            if var lease, lease.id == id {
                lease.nextRenewal = now
                self.lease = lease
            }
        case .revoke(let id):
            revocations.insert(id, at: 0)
            releasePending = releasePending || call.announcesRelease
        }
    }

    private mutating func tookKey(with id: Int64, at now: MonotonicInstant) -> [Action] {
        guard let lease, lease.id == id else { return [] }
        holdsKey = true
        holder = nil
        wait = nil
        let key = configuration.key
        if isMaster {
            keptWhileUnreachable = false
            return [.log(.info, "etcd: key \(key) taken again with lease \(id)")]
        }
        // An answer that arrives after our deadline counts for nothing: the lease may be dead.
        guard wanting, now < deadline(of: lease) else { return [] }
        isMaster = true
        return [.log(.info, "etcd: took key \(key) with lease \(id)"), .grantMastership(lease: id)]
    }

    private mutating func keyHeld(
        by holder: EtcdKeyHolder?, against id: Int64, triedAt: MonotonicInstant, at now: MonotonicInstant
    ) -> [Action] {
        guard let lease, lease.id == id else { return [] }
        let key = configuration.key
        wait = nil
        guard let holder else {
            // Deleted between the compare and the read: try again at once.
            nextAcquire = now
            return []
        }
        if holder.lease == id { return tookKey(with: id, at: now) }
        if holder.value == configuration.value, holder.lease != 0 {
            revocations.append(holder.lease)
            nextAcquire = now
            return [.log(.info, "etcd: key \(key) is held by an earlier lease of ours (\(holder.lease)): revoking it")]
        }
        var actions: [Action] = []
        if self.holder != holder {
            actions.append(.log(.info, "etcd: key \(key) is held by \(holder.value) (lease \(holder.lease))"))
        }
        self.holder = holder
        nextAcquire = now + configuration.retryInterval
        // A key bound to no lease (put by hand) never ends by itself: nothing to time.
        if wanting, !isMaster, holder.lease != 0 { wait = Wait(lease: holder.lease, triedAt: triedAt, asking: true) }
        if isMaster {
            actions += loseMastership(
                .keyTaken, "key \(key) taken by \(holder.value) while etcd was out of reach", at: now)
        }
        return actions
    }

    /// The holder's lease `id` has `seconds` left (etcd's answer to a call sent at `askedAt`):
    /// the next try goes when it can first have ended, or ``Configuration/endingRetry`` after
    /// the last try once less than a second is left; never later than the interval would have
    /// it, never sooner than ``Configuration/endingRetry`` after the last try.
    private mutating func timed(_ id: Int64, seconds: Int64, askedAt: MonotonicInstant) -> [Action] {
        guard let wait, wait.lease == id, wanting, !isMaster, !holdsKey else { return [] }
        let soonest = wait.triedAt + configuration.endingRetry
        // etcd rounds down: the lease cannot end before askedAt + seconds.
        let ends = seconds >= 1 ? askedAt + .seconds(UInt64(min(seconds, configuration.ttl * 4))) : soonest
        nextAcquire = min(nextAcquire, max(soonest, ends))
        let left = seconds < 0 ? "is gone" : seconds == 0 ? "has less than a second left" : "has \(seconds) s left"
        return [.log(.debug, "etcd: the holder's lease \(id) \(left): trying again then")]
    }

    private mutating func renewed(
        _ id: Int64, for ttl: MonotonicDuration, sentAt: MonotonicInstant, at now: MonotonicInstant
    ) -> [Action] {
        guard var lease, lease.id == id else { return [] }
        if sentAt > lease.confirmedSend {
            lease.confirmedSend = sentAt
            lease.ttl = ttl
        }
        lease.nextRenewal = sentAt + renewalInterval(of: ttl)
        self.lease = lease
        guard keptWhileUnreachable, holdsKey, now < deadline(of: lease) else { return [] }
        keptWhileUnreachable = false
        return [.log(.info, "etcd: lease \(id) renewed again")]
    }

    private mutating func leaseGone(_ id: Int64, at now: MonotonicInstant) -> [Action] {
        guard let lease, lease.id == id else { return [] }
        self.lease = nil
        holdsKey = false
        nextGrant = now
        guard isMaster else { return [.log(.info, "etcd: lease \(id) has expired: asking for a new one")] }
        if keptWhileUnreachable {
            return [.log(.warning, "etcd: lease \(id) has expired: taking the key again (--etcd-unreachable=keep)")]
        }
        return loseMastership(.leaseExpired, "lease \(id) has expired: leaving MASTER", at: now)
    }

    private mutating func revokeEnded(_ call: InFlight, _ message: String) -> [Action] {
        call.announcesRelease ? [.log(.info, message), .released] : [.log(.debug, message)]
    }
}
