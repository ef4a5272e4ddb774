extension CARPStateMachine {
    /// The etcd guard took mastership back: a master says it is leaving, so that a backup
    /// that reaches etcd takes over at once, and becomes BACKUP, holding off for
    /// ``stepDownHold`` as after a step-down so that it does not take the role straight back.
    public mutating func relinquish(_ reason: TransitionReason, at now: MonotonicInstant) -> [Action] {
        guard case .master = state else { return [] }
        let leaving = leavingAdvertisement()
        return [leaving] + transition(to: .backup, reason: reason, at: now, holdUntil: now + Self.stepDownHold)
    }

    /// The etcd guard cannot reach etcd while CARP would make us master by preemption: back to
    /// BACKUP (the leaving advert, then the step-down hold), and no preemption until
    /// ``resumePreemption()``, so that the holder is not made to yield a key we cannot take.
    /// A silent master still makes us master (the master-down timer).
    public mutating func suspendPreemption(_ reason: TransitionReason, at now: MonotonicInstant) -> [Action] {
        preemptionSuspended = true
        return relinquish(reason, at: now)
    }

    /// etcd answers again: `--preempt` applies again.
    public mutating func resumePreemption() {
        preemptionSuspended = false
    }
}
