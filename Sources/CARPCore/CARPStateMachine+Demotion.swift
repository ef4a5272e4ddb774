extension CARPStateMachine {
    /// The demotion counter changed (maintenance, or a member of our group demoted).
    ///
    /// The skew we advertise with follows (``demotedSkew``). A master whose skew got worse
    /// hands over as on a step-down, make before break: it says it is leaving (every backup,
    /// ucarp's too, takes over at once), becomes BACKUP and keeps the address until the new
    /// master has announced it. With no other host it takes the address back once its own,
    /// slower, master-down timer runs out: a demotion never leaves the address unheld. A
    /// counter that falls changes only the skew: with `--preempt` we take the address back
    /// from a master that now advertises worse than we do, as a preferred master does.
    public mutating func demotionChanged(to counter: UInt32, at now: MonotonicInstant) -> [Action] {
        let before = effectiveSkew
        demotion = counter
        let after = effectiveSkew
        guard after != before else { return [] }
        var actions: [Action] = [
            .log(.info, "Demotion counter \(counter): advertising with advskew \(after)")
        ]
        guard after > before, case .master = state else { return actions }
        actions.append(leavingAdvertisement())
        actions += transition(to: .backup, reason: .demoted, at: now)
        return actions
    }
}
