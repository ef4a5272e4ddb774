extension CARPStateMachine {
    /// What a process hands its successor when it re-executes itself (`ucarp --reload`): the
    /// role with its timers as absolute `CLOCK_MONOTONIC` instants (the clock is the system's,
    /// so they mean the same after `execve`), the advertisement counter, the health verdict and
    /// the `--preempt-delay`'s end; the demotion counter advertised with; under `--auth=strict`
    /// the highest counter accepted from each peer.
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
        /// `--auth` of the process that wrote it; nil from a predecessor that did not say
        /// (taken as the successor's own).
        public var authentication: AuthenticationMode?
        /// `--auth=strict`: the replay window's highest counter from each peer (nil when not
        /// handed over: the successor keeps what its `--auth-state` file gave).
        public var strictPeers: [StrictState.Peer]?
        /// The demotion counter the skew is advertised with (``demotionChanged(to:at:)``).
        public var demotion: UInt32
        /// `--auth=ucarp`: the replay filter's memory (nil from a predecessor that did not
        /// hand it over: the successor starts with an empty one).
        public var replay: ReplayFilter.Memory?

        public init(
            role: Role, counter: UInt64?, healthy: Bool?, preemptsFrom: MonotonicInstant?,
            authentication: AuthenticationMode? = nil, strictPeers: [StrictState.Peer]? = nil, demotion: UInt32 = 0,
            replay: ReplayFilter.Memory? = nil
        ) {
            self.replay = replay
            self.role = role
            self.counter = counter
            self.healthy = healthy
            self.preemptsFrom = preemptsFrom
            self.authentication = authentication
            self.strictPeers = strictPeers
            self.demotion = demotion
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
        return Snapshot(
            role: role, counter: counter, healthy: healthy, preemptsFrom: preemptsFrom,
            authentication: configuration.authentication,
            strictPeers: configuration.authentication == .strict ? strictWindow.peers : nil, demotion: demotion,
            replay: configuration.authentication == .ucarp ? replayFilter.memory : nil)
    }

    /// Takes over a predecessor's election (instead of ``start(at:)``): no transition, so no
    /// script, no new series of announcements (what the old one owed is still owed); a master
    /// sends its next advertisement on the deadline it had.
    /// The configuration is this process's (a changed skew or interval applies from the next
    /// advertisement on); a refresh announcement is timed afresh from `now`. Nothing happens
    /// once the machine has started.
    ///
    /// In the same `--auth` mode the counter carries on from the predecessor's (strict: one
    /// above it, so peers accept the next advert) and so do the peers' highest counters (a
    /// replay of an advert older than those is still dropped). Across a change of mode the
    /// counter starts afresh, as at a start (a ucarp counter is random, no strict counter
    /// may follow it), and the window is the one the machine was made with. The demotion
    /// counter carries on: the skew advertised does not change by a reload.
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
        if (snapshot.authentication ?? configuration.authentication) == configuration.authentication {
            counter = snapshot.counter
            if let memory = snapshot.replay { replayFilter = ReplayFilter(memory: memory) }
            if snapshot.replay == nil, let counter = snapshot.counter { replayFilter.sent(counter: counter) }
            if configuration.authentication == .strict, let peers = snapshot.strictPeers {
                strictWindow = StrictReplayWindow(remembering: peers, at: now)
            }
        }
        demotion = snapshot.demotion
        // A check that is gone leaves the instance healthy; a new one starts with no verdict.
        healthy = configuration.healthChecked ? snapshot.healthy : true
        preemptsFrom = snapshot.preemptsFrom
    }
}
