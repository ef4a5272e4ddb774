extension CARPStateMachine {
    /// How a master announces the virtual address on its link: when it becomes master, when it
    /// reasserts control against a less preferred master, and, if asked, while it stays master.
    ///
    /// An announcement is one ``Action/announceAddresses``; the schedule does not care what
    /// goes on the wire, so IPv6's unsolicited neighbour advertisements will follow the same
    /// schedule through the same action once there are IPv6 addresses (`--garp-repeat`,
    /// `--garp-interval` and `--garp-refresh` then apply to both).
    public struct AnnouncementSchedule: Equatable, Sendable {
        /// What separates one announcement of a series from the next.
        public enum Spacing: Equatable, Sendable {
            /// Each goes out with the advertisement that is this many advertisements after the
            /// previous announcement (ucarp's delayed ARP: 2).
            case advertisements(Int)
            /// Each goes out this long after the previous one, on a timer of its own; zero
            /// sends the whole series at once.
            case interval(MonotonicDuration)
        }

        /// Announcements in a series, the first at once (at least 1).
        public var count: Int
        public var spacing: Spacing
        /// While master, one more announcement every this long, from becoming master; nil never.
        public var refresh: MonotonicDuration?

        /// ucarp 1.5.2's: one at once and one with the second advertisement after it, no refresh.
        public static let ucarp = AnnouncementSchedule(count: 2, spacing: .advertisements(2), refresh: nil)

        public init(count: Int, spacing: Spacing, refresh: MonotonicDuration? = nil) {
            precondition(count >= 1, "a series has its first announcement")
            self.count = count
            self.spacing = spacing
            self.refresh = refresh
        }
    }

    /// The announcements of a series that a master still owes, and when the next is due.
    public enum PendingAnnouncements: Equatable, Sendable {
        /// The series is complete.
        case none
        /// The next goes out with the `countdown`-th advertisement from now (1: the next one),
        /// and `thenMore` follow it.
        case withAdvertisement(countdown: Int, thenMore: Int)
        /// The next goes out at this instant, and `thenMore` follow it.
        case at(MonotonicInstant, thenMore: Int)

        /// When the next is due on its own timer; nil when it goes with an advertisement.
        public var dueAt: MonotonicInstant? {
            if case .at(let deadline, _) = self { deadline } else { nil }
        }

        /// Whether the next goes out with the next advertisement.
        var dueWithNextAdvertisement: Bool {
            if case .withAdvertisement(countdown: 1, _) = self { true } else { false }
        }
    }

    var announcementSchedule: AnnouncementSchedule { configuration.announcements }

    /// A new series of announcements at `now`: how many to send at once (the first one, and
    /// with a zero interval the whole series), and what the series owes after them.
    func announcementSeries(at now: MonotonicInstant) -> (atOnce: Int, pending: PendingAnnouncements) {
        let schedule = announcementSchedule
        let rest = schedule.count - 1
        guard rest > 0 else { return (1, .none) }
        switch schedule.spacing {
        case .advertisements(let advertisements):
            return (1, .withAdvertisement(countdown: advertisements, thenMore: rest - 1))
        case .interval(let interval) where interval.nanoseconds == 0:
            return (schedule.count, .none)
        case .interval(let interval):
            return (1, .at(now + interval, thenMore: rest - 1))
        }
    }

    /// The announcements due with the advertisement a master sends now: one when its countdown
    /// ends, and what the series owes after it.
    func announcements(
        withAdvertisement pending: PendingAnnouncements
    ) -> ([Action], PendingAnnouncements) {
        guard case .withAdvertisement(let countdown, let more) = pending else { return ([], pending) }
        guard countdown <= 1 else { return ([], .withAdvertisement(countdown: countdown - 1, thenMore: more)) }
        guard more > 0, case .advertisements(let advertisements) = announcementSchedule.spacing else {
            return ([.announceAddresses], .none)
        }
        return ([.announceAddresses], .withAdvertisement(countdown: advertisements, thenMore: more - 1))
    }

    /// The announcements on their own timers (the series' interval and the refresh) due at
    /// `now`, with the master's timers re-armed from `now`.
    func timedAnnouncements(of master: inout Master, at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        if case .at(let deadline, let more) = master.announcements, now >= deadline {
            actions.append(.announceAddresses)
            if more > 0, case .interval(let interval) = announcementSchedule.spacing {
                master.announcements = .at(now + interval, thenMore: more - 1)
            } else {
                master.announcements = .none
            }
        }
        if let refreshAt = master.refreshAt, now >= refreshAt, let refresh = announcementSchedule.refresh {
            actions.append(.announceAddresses)
            master.refreshAt = now + refresh
        }
        return actions
    }
}
