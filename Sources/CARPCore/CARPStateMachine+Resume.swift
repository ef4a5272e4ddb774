extension CARPStateMachine {
    /// What a process hands its successor when it re-executes itself (`ucarp --reload`): the
    /// role with its timers as absolute `CLOCK_MONOTONIC` instants (the clock is the system's,
    /// so they mean the same after `execve`), the advertisement counter, the health verdict and
    /// the `--preempt-delay`'s end.
    public struct Snapshot: Equatable, Sendable {
        /// A role with the timer it runs, as far as a successor needs it.
        public enum Role: Equatable, Sendable {
            /// Master: the next advertisement is due at this instant, and what the series of
            /// announcements of its term still owes.
            case master(advertiseAt: MonotonicInstant, announcements: PendingAnnouncements)
            /// Backup: the timer as it stands, and a step-down hold.
            case backup(Backup.Timer, holdUntil: MonotonicInstant?)
            /// FAULT, with the carrier.
            case fault(Carrier)
        }

        public var role: Role
        /// The counter of our last advertisement, if any was sent.
        public var counter: UInt64?
        /// nil before the health check's first verdict.
        public var healthy: Bool?
        public var preemptsFrom: MonotonicInstant?

        public init(role: Role, counter: UInt64?, healthy: Bool?, preemptsFrom: MonotonicInstant?) {
            self.role = role
            self.counter = counter
            self.healthy = healthy
            self.preemptsFrom = preemptsFrom
        }
    }

    /// The election as a successor must take it on; nil before the start (INIT): nothing to
    /// hand over, the successor starts afresh.
    public var snapshot: Snapshot? {
        let role: Snapshot.Role
        switch state {
        case .initial: return nil
        case .master(let master):
            role = .master(advertiseAt: master.advertiseAt, announcements: master.announcements)
        case .backup(let backup): role = .backup(backup.timer, holdUntil: backup.holdUntil)
        case .fault(let carrier): role = .fault(carrier)
        }
        return Snapshot(role: role, counter: counter, healthy: healthy, preemptsFrom: preemptsFrom)
    }

    /// Takes over a predecessor's election (instead of ``start(at:)``): no transition, so no
    /// script, no new series of announcements (what the old one owed is still owed); a master
    /// sends its next advertisement on the deadline it had.
    /// The configuration is this process's (a changed skew or interval applies from the next
    /// advertisement on); a refresh announcement is timed afresh from `now`. Nothing happens
    /// once the machine has started.
    public mutating func resume(_ snapshot: Snapshot, at now: MonotonicInstant) {
        guard case .initial = state else { return }
        switch snapshot.role {
        case .master(let advertiseAt, let announcements):
            state = .master(
                Master(
                    advertiseAt: advertiseAt, announcements: announcements,
                    refreshAt: configuration.announcements.refresh.map { now + $0 }))
        case .backup(let timer, let holdUntil):
            state = .backup(Backup(timer: timer, holdUntil: holdUntil))
        case .fault(.up) where !configuration.healthChecked:
            // The check that failed is gone: listening again, as a backup that heard nothing.
            state = .backup(Backup(timer: .masterDown(now + masterDownInterval), holdUntil: nil))
        case .fault(let carrier):
            state = .fault(carrier)
        }
        counter = snapshot.counter
        if let counter = snapshot.counter { replayFilter.sent(counter: counter) }
        // A check that is gone leaves the instance healthy; a new one starts with no verdict.
        healthy = configuration.healthChecked ? snapshot.healthy : true
        preemptsFrom = snapshot.preemptsFrom
    }
}
