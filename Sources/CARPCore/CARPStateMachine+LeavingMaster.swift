extension CARPStateMachine {
    /// How long a backup waits after a leaving advertisement before it takes over: its own
    /// skew, `advskew / 256 × advbase` seconds (advbase counted as at least 1), nothing with
    /// advskew 0.
    ///
    /// Every backup hears the leaving advertisement at the same moment. Taking over at once,
    /// as the BSD kernels and ucarp 1.5.2 do (the advert "will time out anyway"), makes all of
    /// them master together: two or three holders and up scripts, until the less preferred
    /// yield at the next advertisement. Ranked by skew, as their master-down timers would
    /// rank them, the preferred backup takes over first and its first advertisement, sent as
    /// it does, reaches the others within their delay: they stay BACKUP. The leaving master
    /// keeps the address meanwhile (``AddressRelease``): the hand-over still makes before it
    /// breaks, and a backup with advskew 0 takes over at once, as before.
    ///
    /// None without ``Configuration/staggeredTakeOver`` (the etcd guard): there the leaving
    /// master has let the address and the key go before it says so, so a wait is only time
    /// without a holder, and the key admits one of the backups that race for it.
    var leavingDelay: MonotonicDuration {
        guard configuration.staggeredTakeOver else { return .nanoseconds(0) }
        let microseconds = UInt64(AdvertisementInterval.microseconds(skew: effectiveSkew))
        return .nanoseconds(microseconds * 1_000 * UInt64(max(1, configuration.advbase)))
    }

    /// A listening backup heard a master's leaving advertisement (``isLeaving(advbase:advskew:)``):
    /// take over at once when our skew is 0, else after ``leavingDelay`` unless a master is
    /// heard first. `--preempt` and `--preempt-delay` change nothing: a leaving master is
    /// replaced in any case, by the preferred backup.
    mutating func heardLeaving(_ backup: Backup, at now: MonotonicInstant) -> [Action] {
        let delay = leavingDelay
        guard delay.nanoseconds > 0 else { return takeOverFromLeavingMaster(at: now) }
        var deadline = now + delay
        if case .masterLeft(let earlier) = backup.timer { deadline = min(deadline, earlier) }
        state = .backup(Backup(timer: .masterLeft(deadline), holdUntil: backup.holdUntil))
        return [.log(.debug, "The master is leaving: taking over in \(delay) unless a preferred backup does first")]
    }

    /// The leaving master is replaced by us: ucarp's transition for a master that will time out.
    mutating func takeOverFromLeavingMaster(at now: MonotonicInstant) -> [Action] {
        transition(to: .master, reason: .masterWillTimeOut, at: now)
            + [.log(.warning, "Putting MASTER DOWN (going to time out)")]
    }
}
