extension CARPStateMachine {
    /// The one way the role changes, like OpenBSD's `carp_set_state` followed by `carp_setrun`:
    /// builds the `changeState` action, then the new state with its timers armed from `now`.
    ///
    /// A new BACKUP times the master from `now`, or from the end of `holdUntil`; it runs no
    /// timer without carrier, while the health check has not passed, or after a shutdown. A
    /// new MASTER sends its gratuitous ARP and its first advertisement at once, and schedules
    /// one more ARP two advertisements later, for switches that missed the first (ucarp's
    /// `carp_master_down`).
    ///
    /// - Parameter carrier: the carrier in the new state; by default the current one.
    mutating func transition(
        to role: Role, reason: TransitionReason, at now: MonotonicInstant, carrier: Carrier? = nil,
        holdUntil: MonotonicInstant? = nil
    ) -> [Action] {
        let from = state.role
        precondition(from != role, "a transition from \(from) to itself")
        let carrier = carrier ?? state.carrier
        var actions: [Action] = [
            .changeState(from: from, to: role, reason: reason, runScript: runsScript(from: from, to: role, reason))
        ]
        if case .master(let master) = state {
            delayedARPLeftOver = master.advertsBeforeDelayedARP == 1
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
            actions.append(.sendGratuitousARP)
            // ucarp's sc_delayed_arp outlives the state: one still due with the next advertisement
            // of the last term goes out with the first advertisement of this one.
            let (sent, master) = advertisement(delayedARP: delayedARPLeftOver ? 1 : 0, at: now)
            delayedARPLeftOver = false
            actions += sent
            state = .master(Master(advertiseAt: master.advertiseAt, advertsBeforeDelayedARP: 2))
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
        guard case .master(let master) = state else { preconditionFailure("only a master advertises") }
        let (actions, next) = advertisement(delayedARP: master.advertsBeforeDelayedARP, at: now)
        state = .master(next)
        return actions
    }

    /// An advertisement sent at `now` by a master with `pending` advertisements to send before
    /// its delayed ARP: the actions (the ARP with it when due) and the master after it.
    private mutating func advertisement(delayedARP pending: Int, at now: MonotonicInstant) -> ([Action], Master) {
        let next = counter.map { $0 &+ 1 } ?? configuration.initialCounter
        counter = next
        let skew = effectiveSkew
        var actions: [Action] = [.sendAdvertisement(advbase: configuration.advbase, advskew: skew, counter: next)]
        if pending == 1 { actions.append(.sendGratuitousARP) }
        let master = Master(
            advertiseAt: now + AdvertisementInterval(base: configuration.advbase, skew: skew).duration,
            advertsBeforeDelayedARP: max(pending - 1, 0))
        return (actions, master)
    }

    /// The advert a departing master sends, as the BSD kernels do: advbase 255 and advskew
    /// 255 make every backup (ours and ucarp 1.5.2 alike) conclude that the master "will time
    /// out anyway" and take over at once, instead of after advbase × deadratio of silence.
    mutating func leavingAdvertisement() -> Action {
        let next = counter.map { $0 &+ 1 } ?? configuration.initialCounter
        counter = next
        return .sendAdvertisement(advbase: Self.leavingAdvbase, advskew: Self.leavingAdvskew, counter: next)
    }
}
