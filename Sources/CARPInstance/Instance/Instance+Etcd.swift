import CARPCore
import EtcdGuard
import Logging
import UCarpConfiguration

/// `--etcd`: MASTER only while holding the etcd key (issue 15), the ``EtcdLeaseGuard`` wired
/// into the instance.
///
/// CARP still elects. When it makes us master the instance calls ``EtcdLeaseGuard/want(at:)``
/// and, until ``EtcdLeaseGuard/Action/grantMastership(lease:)``, reports BACKUP everywhere (log,
/// USR1, state file, notify, metrics) and withholds the up script and the gratuitous ARPs; CARP
/// meanwhile advertises as the master it would be, which is how a returning preferred host
/// makes the holder yield. A master that leaves, on purpose (shutdown, USR2, a failed check, a
/// better advert) or because the guard took mastership back (`lease-lost`, `lease-expired`,
/// `key-taken`), reports its new role and runs its down script at once; the lease is revoked
/// only when that script has ended (or been killed by `--script-timeout`), and the leaving
/// advert waits for ``EtcdLeaseGuard/Action/released`` (or one lease TTL at most): the next
/// host finds the key free only once the address is gone here, and the two never hold it
/// together. A lost lease's down script must fit in the guard's margin
/// (``EtcdLeaseGuard/Configuration/margin``) before etcd expires the lease. So there is no
/// make before break here: ``Instance/handOverWait(_:)`` is nil under the guard.
extension EtcdGate {
    /// What the instance logs at start-up when `--etcd` comes without `--shutdown`.
    static func shutdownLine(_ settings: Settings) -> String? {
        guard settings.etcd != nil, !settings.shutdown else { return nil }
        return "etcd: --etcd implies --shutdown: a master leaves by its down script, then revokes the lease"
    }

    /// What the instance logs at start-up: why it may not be master yet.
    static func startLine(_ settings: Settings) -> String? {
        guard let etcd = settings.etcd, let key = settings.etcdKey else { return nil }
        let endpoints = etcd.endpoints.joined(separator: ",")
        return "etcd: MASTER only while holding key \(key) (lease TTL \(etcd.ttl) s, "
            + "--etcd-unreachable=\(etcd.unreachable.rawValue), \(endpoints)): BACKUP until then"
    }
}

extension Instance {
    typealias EtcdGate = CARPInstance.EtcdGate

    /// `--etcd`'s key, for the state file; nil without the guard.
    package var etcdKey: String? { etcd?.key }

    /// The lease held while MASTER under the guard, for the state file.
    package var etcdLease: Int64? { etcd?.heldLease }

    /// The role we report: CARP's, but BACKUP while CARP would be master without the key.
    var reportedRole: CARPStateMachine.Role {
        if let etcd, machine.role == .master, !etcd.granted { return .backup }
        return machine.role
    }

    /// The scripts' view of the lease: `CARP_ETCD_KEY`, and `CARP_ETCD_LEASE` while it is held.
    var etcdEnvironment: [Child.Variable] {
        guard let etcd else { return [] }
        return [.init("CARP_ETCD_KEY", etcd.key)] + (etcd.heldLease.map { [.init("CARP_ETCD_LEASE", "\($0)")] } ?? [])
    }

    // MARK: Events

    /// etcd answered request `id`.
    package mutating func etcdAnswered(status: Int, body: [UInt8], for id: UInt64, at now: MonotonicInstant) -> [Action]
    {
        if let actions = etcdMoveAnswered(status: status, body: body, for: id, at: now) { return actions }
        return withLease(at: now) { $0.received(status: status, body: body, for: id, at: now) }
    }

    /// Request `id` got no answer: connection refused, TLS failure, a timeout.
    package mutating func etcdFailed(requestID id: UInt64, reason: String, at now: MonotonicInstant) -> [Action] {
        if let actions = etcdMoveFailedRequest(requestID: id, reason: reason, at: now) { return actions }
        return withLease(at: now) { $0.failed(requestID: id, reason: reason, at: now) }
    }

    /// The guard's timers, and the release's bound.
    mutating func etcdTimePassed(at now: MonotonicInstant) -> [Action] {
        guard let etcd, phase != .finished else { return [] }
        var actions: [Action] = []
        if let deadline = etcd.release?.deadline, now >= deadline {
            actions.append(.log(.warning, "etcd: the lease's release went unconfirmed: letting the address go"))
            actions += letGo(at: now)
        }
        if let deadline = etcd.lease.nextDeadline, now >= deadline {
            actions += withLease(at: now) { $0.deadlinePassed(at: now) }
        }
        if let due = etcd.heardMaster?.nextLookUp, now >= due { actions += lookUpKey(at: now) }
        if let due = self.etcd?.nextProbe, now >= due { actions += probe(at: now) }
        return actions
    }

    /// An advert heard: a holder leaving lets a blocked would-be master try for the key at
    /// once; a backup keeps track of the master it hears, to look up whether it holds the key.
    mutating func etcdHeard(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> [Action] {
        guard let etcd else { return [] }
        let leaving = advert.isLeaving
        let source = advert.source
        if machine.role == .backup, !leaving {
            self.etcd?.heard(source, at: now)
        } else if etcd.heardMaster?.source == source || machine.role != .backup {
            self.etcd?.forgetHeardMaster()
        }
        guard !etcd.granted, etcd.lease.wanting, machine.role == .master, leaving else { return [] }
        return withLease(at: now) { $0.want(at: now) }
    }

    /// CARP's note of a master heard, as it is told under the guard while the key is not ours:
    /// no gratuitous ARP reasserts an address we do not hold (so no line), and a preemption
    /// takes nothing until the holder lets the key go. ucarp's line without `--etcd`.
    func told(_ note: CARPStateMachine.Note) -> [Action] {
        guard let etcd, !etcd.granted else { return [.log(Self.loggerLevel(note.level), note.message)] }
        switch note {
        case .reasserting:
            return []
        case .preempting(let source):
            return [
                .log(
                    .info,
                    "etcd: preempting [\(source)]: advertising as the preferred master until it lets key \(etcd.key) go"
                )
            ]
        }
    }

    // MARK: Internals

    /// A change of CARP's role under the guard: MASTER waits for the key; leaving MASTER runs
    /// the down script, then lets the lease go, then sends the leaving advert.
    mutating func gatedChange(
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason,
        runScript: Bool, at now: MonotonicInstant
    ) -> [Action] {
        guard let key = etcd?.key else { return [] }
        if to == .master {
            // Back before the lease went: it stays ours, the leaving advert unsent.
            etcd?.carpMadeMaster(from: from, reason: reason)
            return [.log(.info, "etcd: CARP would make us MASTER (\(reason.rawValue)): taking key \(key) first")]
                + withLease(at: now) { $0.want(at: now) }
        }
        guard from == .master else {
            return reportChange(from: from, to: to, reason: reason, runScript: runScript, at: now)
        }
        var actions: [Action] = []
        if etcd?.leftMaster() == nil {
            // Reported BACKUP all along: only a change to FAULT is news.
            if to != .backup {
                actions += reportChange(from: .backup, to: to, reason: reason, runScript: false, at: now)
            }
        } else {
            // The down script first (in the scripts' queue, after any before it, the notify
            // script after it), marked so that its end revokes the lease; without one, the
            // lease goes at once.
            actions += reportChange(
                from: from, to: to, reason: reason, runScript: runScript, releasingLease: true, at: now)
            if runScript, settings.downscript != nil { return actions + withLease(at: now) { $0.standDown(at: now) } }
            return actions + releaseLease(at: now)
        }
        // An older term's down script still runs (its lease was taken back meanwhile): contend
        // no more, but revoke nothing before that script has ended.
        if etcd?.releaseWaitsForDownScript == true { return actions + withLease(at: now) { $0.standDown(at: now) } }
        return actions + withLease(at: now) { $0.stopWanting(at: now) }
    }

    /// A script ended (or failed to start): if it was the down script of a master leaving
    /// under the guard, and the last such one queued, the lease goes now.
    mutating func etcdScriptEnded(_ script: Script, at now: MonotonicInstant) -> [Action] {
        guard script.releasesLease, etcd?.releaseWaitsForDownScript == true, !scripts.releasingLease
        else { return [] }
        return releaseLease(at: now)
    }

    /// The address is gone here: revoke the lease, bounded by one TTL.
    private mutating func releaseLease(at now: MonotonicInstant) -> [Action] {
        _ = etcd?.revoke(at: now)
        // A newer term contends or holds: only the leases held back for this release go.
        if etcd?.term != EtcdGate.Term.none { return withLease(at: now) { $0.releaseHeldBack(at: now) } }
        return withLease(at: now) { $0.stopWanting(at: now) }
    }

    /// A granted master's leaving advert waits for the change that follows it.
    mutating func holdsLeavingAdvertisement(advbase: UInt8, advskew: UInt8, counter: UInt64) -> Bool {
        guard CARPStateMachine.isLeaving(advbase: advbase, advskew: advskew) else { return false }
        return etcd?.hold(.init(advbase: advbase, advskew: advskew, counter: counter)) ?? false
    }

    /// Runs `body` on the guard and carries out what it returns.
    mutating func withLease(
        at now: MonotonicInstant, _ body: (inout EtcdLeaseGuard) -> [EtcdLeaseGuard.Action]
    ) -> [Action] {
        guard var gate = etcd else { return [] }
        let leaseActions = body(&gate.lease)
        etcd = gate
        let actions = carryOut(leaseActions, at: now)
        return actions + followEtcdHealth(at: now)
    }

    /// A would-be master advertises as master (making the holder yield) only while etcd answers
    /// it: blocked and failing, it goes back to BACKUP and preempts no more until etcd answers
    /// again, else a preferred host that cannot reach etcd would take the address down for good.
    /// Once suspended, a master-down timeout still makes it master, waiting for the key.
    private mutating func followEtcdHealth(at now: MonotonicInstant) -> [Action] {
        guard let gate = etcd, phase == .running else { return [] }
        if gate.lease.problem == nil {
            guard machine.preemptionSuspended else { return [] }
            resumePreemption()
            etcd?.probe(at: nil)
            return [.log(.info, "etcd: answering again: preempting again when CARP says so")]
        }
        // Also when CARP made us master again while suspended (the holder fell silent): a
        // would-be master that cannot reach etcd must not keep a host that can behind its adverts.
        guard gate.lease.isFailing, machine.role == .master, !gate.granted,
            gate.pendingMaster != nil, let problem = gate.lease.problem
        else { return [] }
        etcd?.probe(at: now + gate.lease.configuration.retryInterval)
        let line = "etcd: cannot take key \(gate.key) (\(problem)): back to BACKUP, not preempting until etcd answers"
        return [.log(machine.preemptionSuspended ? .debug : .warning, line)] + suspendPreemption(at: now)
    }

    /// Preemption suspended: a backup asks etcd (a look-up) once per retry interval, to learn
    /// when it answers again; a would-be master's own attempts tell that already.
    private mutating func probe(at now: MonotonicInstant) -> [Action] {
        guard let gate = etcd, machine.preemptionSuspended else {
            etcd?.probe(at: nil)
            return []
        }
        etcd?.probe(at: now + gate.lease.configuration.retryInterval)
        guard machine.role == .backup else { return [] }
        return withLease(at: now) { $0.lookUp(at: now) }
    }

    /// The guard's actions, in the shell's terms.
    mutating func carryOut(_ leaseActions: [EtcdLeaseGuard.Action], at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        for action in leaseActions {
            switch action {
            case .send(let request): actions.append(.etcdRequest(request))
            case .cancel(let id): actions.append(.etcdCancel(requestID: id))
            case .grantMastership(let lease): actions += granted(lease, at: now)
            case .revokeMastership(let reason): actions += revoked(reason, at: now)
            case .released: actions += letGo(at: now)
            case .keyLookedUp(let holder): actions += lookedUp(holder)
            case .log(let level, let message): actions.append(.log(Self.loggerLevel(level), message))
            }
        }
        return actions
    }

    /// Every host of the group must run the guard: a backup that has heard the same master
    /// for a while looks up whether it holds the key, and says so if not.
    private mutating func lookUpKey(at now: MonotonicInstant) -> [Action] {
        guard let gate = etcd, let heard = gate.heardMaster, machine.role == .backup,
            now.duration(since: heard.last) <= masterHeardFor
        else {
            forgetMasterHeard()
            return []
        }
        let sent = withLease(at: now) { $0.lookUp(at: now) }
        // Busy (contending, releasing): try again a little later.
        etcd?.lookUpAgain(at: now + (sent.isEmpty ? gate.lease.configuration.retryInterval : EtcdGate.lookUpEvery))
        return sent
    }

    /// How long a master heard counts as heard: CARP's own patience.
    private var masterHeardFor: MonotonicDuration {
        .seconds(UInt64(settings.advbase) * UInt64(settings.deadRatio) + 1)
    }

    private mutating func forgetMasterHeard() {
        etcd?.forgetHeardMaster()
    }

    /// What a look-up found: nothing to say if the master heard holds the key.
    private mutating func lookedUp(_ holder: EtcdKeyHolder?) -> [Action] {
        guard let gate = etcd, let master = gate.heardMaster else { return [] }
        let finding: String?
        if let holder {
            finding =
                holder.holder?.sourceAddress == master.source ? nil : "held by \(holder.value) (lease \(holder.lease))"
        } else {
            finding = "free"
        }
        let message = finding.map {
            "etcd: \(master.source) advertises as MASTER while key \(gate.key) is \($0): it cannot reach etcd, "
                + "or runs without --etcd or with another key (every host of the group must run the guard)"
        }
        guard etcd?.newFinding(message) == true else { return [] }
        return message.map { [.log(.warning, $0)] } ?? []
    }

    /// The key is ours: the MASTER term CARP began is reported now, its up script and
    /// gratuitous ARPs with it.
    private mutating func granted(_ lease: Int64, at now: MonotonicInstant) -> [Action] {
        guard machine.role == .master, let pending = etcd?.grant(lease) else { return [] }
        return reportChange(from: pending.from, to: .master, reason: pending.reason, runScript: true, at: now)
            + reannounce(at: now)
    }

    /// The guard took mastership back: leave MASTER at once.
    private mutating func revoked(_ reason: EtcdLeaseGuard.LossReason, at now: MonotonicInstant) -> [Action] {
        // Granted and MASTER: leave at once. Left already, its down script still to run: only
        // the scripts change. Either way the key is no longer ours, so an up script still adding
        // the address must not hold the down script up.
        let leaving = etcd?.granted == true && machine.role == .master
        guard leaving || etcd?.releaseWaitsForDownScript == true else { return [] }
        if leaving { etcd?.countLoss() }
        var actions = carryOut(scripts.stopAddingAddress(because: reason.rawValue), at: now)
        if leaving {
            let transitionReason: CARPStateMachine.TransitionReason =
                switch reason {
                case .leaseLost: .leaseLost
                case .leaseExpired: .leaseExpired
                case .keyTaken: .keyTaken
                }
            actions += relinquish(transitionReason, at: now)
        }
        // The down scripts first: they must run within the margin, before etcd frees the key.
        scripts.putLeaseReleaseFirst()
        return actions
    }

    /// The lease is released (or its bound passed), the down script done: the leaving advert.
    private mutating func letGo(at now: MonotonicInstant) -> [Action] {
        guard let key = etcd?.key, let release = etcd?.released() else { return [] }
        var actions: [Action] = [.log(.info, "etcd: key \(key) released: letting [\(settings.virtualAddressList)] go")]
        // The leaving advert of a term ended, unless a newer term has begun meanwhile.
        if let advert = release.advert, etcd?.term == EtcdGate.Term.none {
            actions.append(
                .sendAdvertisement(advbase: advert.advbase, advskew: advert.advskew, counter: advert.counter))
        }
        actions += tellStopNotice(at: now)
        return actions + finishIfDone()
    }
}
