extension CARPStateMachine {
    /// Where the election stands, each state with the data only it has.
    ///
    /// A master always has its next advertisement due and its carrier up; a backup has no
    /// advertisement timer; INIT and FAULT have no timer at all. The cases make any other
    /// combination impossible to write.
    public enum State: Equatable, Sendable {
        /// Not started yet: neither listening nor advertising.
        case initial(Carrier)
        /// Listening for a master, taking over when it falls silent.
        case backup(Backup)
        /// Owning the virtual address and advertising.
        case master(Master)
        /// The health check failed: out of the election until it passes again.
        case fault(Carrier)

        /// The state's name, as the scripts, logs and state file know it.
        public var role: Role {
            switch self {
            case .initial: .initial
            case .backup: .backup
            case .master: .master
            case .fault: .fault
            }
        }

        /// Whether the interface is RUNNING; a master loses its role with its carrier.
        public var carrier: Carrier {
            switch self {
            case .initial(let carrier), .fault(let carrier): carrier
            case .backup(let backup): backup.timer == .noCarrier ? .down : .up
            case .master: .up
            }
        }
    }

    /// Whether the interface has its carrier (is RUNNING).
    public enum Carrier: Equatable, Sendable {
        case up
        case down
    }

    /// A backup's data: what it times, and the step-down hold.
    public struct Backup: Equatable, Sendable {
        /// What a backup waits for.
        public enum Timer: Equatable, Sendable {
            /// Take over at this instant unless a master advertises first.
            case masterDown(MonotonicInstant)
            /// The master said it is leaving: take over at this instant, our skew after its
            /// leaving advertisement, unless a preferred backup advertises as master first
            /// (``CARPStateMachine/heardLeaving(_:at:)``).
            case masterLeft(MonotonicInstant)
            /// Listening without a timer: the health check has not passed yet, or the machine
            /// shut down. An advertisement heard (when healthy) or a passed check arms it.
            case unarmed
            /// The interface has no carrier: deaf and without a timer until it is back.
            case noCarrier
        }

        public internal(set) var timer: Timer
        /// The end of the hold after a step-down (SIGUSR2): no take-over before it. It stays
        /// after it has passed; only an instant still ahead has an effect.
        public internal(set) var holdUntil: MonotonicInstant?

        /// When we take over unless a master is heard, if the timer runs.
        public var masterDownAt: MonotonicInstant? {
            switch timer {
            case .masterDown(let deadline), .masterLeft(let deadline): deadline
            case .unarmed, .noCarrier: nil
            }
        }

        /// Timing the master again: `masterDown` from `now`, or from the end of a hold still in
        /// force (ucarp sleeps through the whole hold, then arms the timer).
        func listening(at now: MonotonicInstant, masterDown: MonotonicDuration) -> Backup {
            Backup(timer: .masterDown(max(now, holdUntil ?? now) + masterDown), holdUntil: holdUntil)
        }
    }

    /// A master's data: its advertisement timer and its announcements of the address.
    public struct Master: Equatable, Sendable {
        /// When the next advertisement is due.
        public internal(set) var advertiseAt: MonotonicInstant
        /// What the current series of announcements still owes (ucarp's `sc_delayed_arp`).
        public internal(set) var announcements: PendingAnnouncements
        /// When the next refresh announcement is due; nil without `--garp-refresh`.
        public internal(set) var refreshAt: MonotonicInstant?

        init(advertiseAt: MonotonicInstant, announcements: PendingAnnouncements, refreshAt: MonotonicInstant? = nil) {
            self.advertiseAt = advertiseAt
            self.announcements = announcements
            self.refreshAt = refreshAt
        }

        /// The earliest of its timers.
        var nextDeadline: MonotonicInstant {
            [announcements.dueAt, refreshAt].compactMap { $0 }.reduce(advertiseAt, min)
        }
    }
}
