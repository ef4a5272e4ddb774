extension CARPStateMachine {
    /// The one way the role changes, like OpenBSD's `carp_set_state` followed by `carp_setrun`:
    /// builds the `changeState` action, then the new state with its timers armed from `now`.
    ///
    /// A new BACKUP times the master from `now`, or from the end of `holdUntil`; it runs no
    /// timer without carrier, while the health check has not passed, or after a shutdown. A
    /// new MASTER announces the address (a gratuitous ARP) and sends its first advertisement at
    /// once, then owes the rest of its series of announcements (by default ucarp's one more,
    /// two advertisements later, for switches that missed the first: `carp_master_down`) and
    /// arms its refresh.
    ///
    /// - Parameter carrier: the carrier in the new state; by default the current one.
    mutating func transition(
        to role: Role, reason: TransitionReason, at now: MonotonicInstant, carrier: Carrier? = nil,
        holdUntil: MonotonicInstant? = nil
    ) -> [Action] {
        let from = state.role
        precondition(from != role, "a transition from \(from) to itself")
        let carrier = carrier ?? state.carrier
        // A planned departure keeps the address for the new master; a master coming back
        // before it went still has it, and runs no up script.
        let keepsAddress = handsOver(from: from, to: role, reason: reason)
        let stillHeld = role == .master && addressRelease != nil
        var actions: [Action] = [
            .changeState(
                from: from, to: role, reason: reason,
                runScript: runsScript(from: from, to: role, reason) && !keepsAddress && !stillHeld)
        ]
        if stillHeld { addressRelease = nil }
        if keepsAddress, let wait = configuration.handOverWait {
            addressRelease = AddressRelease(reason: reason, deadline: now + wait, advertisementsHeard: 0)
        }
        if case .master(let master) = state {
            delayedARPLeftOver = master.announcements.dueWithNextAdvertisement
        }
        switch role {
        case .initial:
            preconditionFailure("nothing goes back to INIT")
        case .backup:
            let backup = Backup(timer: carrier == .down ? .noCarrier : .unarmed, holdUntil: holdUntil)
            let listens = carrier == .up && mayBecomeMaster && reason != .shutdown
            state = .backup(listens ? backup.listening(at: now, masterDown: masterDownInterval) : backup)
        case .master:
            precondition(carrier == .up && mayBecomeMaster, "MASTER without carrier or health")
            let (atOnce, pending) = announcementSeries(at: now)
            actions.append(.announceAddresses)
            // ucarp's sc_delayed_arp outlives the state: one still due with the next advertisement
            // of the last term goes out with the first advertisement of this one.
            var master = Master(
                advertiseAt: now,
                announcements: delayedARPLeftOver ? .withAdvertisement(countdown: 1, thenMore: 0) : .none,
                refreshAt: announcementSchedule.refresh.map { now + $0 })
            delayedARPLeftOver = false
            actions += advertisement(of: &master, at: now)
            actions += Array(repeating: .announceAddresses, count: atOnce - 1)
            master.announcements = pending
            state = .master(master)
        case .fault:
            state = .fault(carrier)
        }
        return actions
    }

    /// ucarp runs the up script on entering MASTER, the down script on leaving it, and the
    /// down script at start unless `--neutral` (a shutdown before start runs it in any case).
    private func runsScript(from: Role, to: Role, _ reason: TransitionReason) -> Bool {
        to == .master || from == .master || (from == .initial && !(configuration.neutral && reason == .startup))
    }

    /// The master's next advertisement, sent at `now`, with its timer re-armed from `now`.
    mutating func advertiseAsMaster(at now: MonotonicInstant) -> [Action] {
        guard case .master(var master) = state else { preconditionFailure("only a master advertises") }
        let actions = advertisement(of: &master, at: now)
        state = .master(master)
        return actions
    }

    /// An advertisement sent at `now` by `master`, with the announcement due with it, if one
    /// is; its advertisement timer is re-armed from `now`.
    private mutating func advertisement(of master: inout Master, at now: MonotonicInstant) -> [Action] {
        let next = nextCounter()
        let skew = effectiveSkew
        let (announced, pending) = announcements(withAdvertisement: master.announcements)
        master.advertiseAt = now + AdvertisementInterval(base: configuration.advbase, skew: skew).duration
        master.announcements = pending
        return [.sendAdvertisement(advbase: configuration.advbase, advskew: skew, counter: next)] + announced
    }

    /// The advert a departing master sends, as the BSD kernels do: advbase 255 and advskew
    /// 255 make every backup (ours and ucarp 1.5.2 alike) conclude that the master "will time
    /// out anyway" and take over, instead of after advbase × deadratio of silence: ucarp at
    /// once, ours after its skew (``heardLeaving(_:at:)``).
    mutating func leavingAdvertisement() -> Action {
        let next = nextCounter()
        return .sendAdvertisement(advbase: Self.leavingAdvbase, advskew: Self.leavingAdvskew, counter: next)
    }

    /// The counter of our next advert: ``Configuration/initialCounter`` first, then on by
    /// ``CARPWire/counterStride``, never from a peer's (ucarp copies the counter it hears;
    /// we do not, see ``ReplayFilter``). Remembered, so that a reflection of it is refused.
    /// With `--auth=strict` on by one (``StrictCounter``): receivers want it to grow.
    private mutating func nextCounter() -> UInt64 {
        let stride = configuration.authentication == .strict ? 1 : CARPWire.counterStride
        let next = counter.map { $0 &+ stride } ?? configuration.initialCounter
        counter = next
        replayFilter.sent(counter: next)
        return next
    }
}
