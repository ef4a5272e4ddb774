import Logging

/// What the sentinel of a foreground instance decides, with the I/O taken out.
///
/// A foreground daemon (neither `--daemonize` nor `--watchdog`) keeps ucarp's process model:
/// it is the process that was started. At start it forks a sentinel, a child that blocks on a
/// pipe only the daemon writes to. The daemon tells it its role as it changes and the pids of
/// its scripts (the ``SupervisorStateMachine/Report`` lines a supervisor hears), and
/// ``SupervisorStateMachine/Report/leaving`` just before it ends in a documented way. The end
/// of the pipe is the end of the daemon: if it had not said it was leaving, it died unbidden
/// (SIGKILL, the OOM killer, a crash), and the sentinel cleans up after it as a supervisor
/// does after its worker (``SupervisorStateMachine/cleanUp(role:children:)``), then exits.
package struct SentinelStateMachine {
    /// The daemon's pid, for the log line.
    package let daemon: Int32
    /// What the daemon said last.
    package private(set) var role = ReportedState.initial
    package private(set) var children: [Int32] = []
    /// The daemon said it was about to end of its own accord.
    package private(set) var leaving = false
    /// `--auth=strict`: the counter of the leaving advertisement, above every advert the
    /// daemon sent; nil until the daemon told one.
    package private(set) var leavingCounter: UInt64?

    /// `--auth=strict`: the leaving advertisement is left out (see ``daemonEnded()``).
    package let strict: Bool

    package init(daemon: Int32, strict: Bool = false) {
        self.daemon = daemon
        self.strict = strict
    }

    /// A line from the daemon.
    package mutating func received(_ report: SupervisorStateMachine.Report) {
        switch report {
        case .role(let role):
            self.role = role
            // A role after LEAVING cannot come from a daemon that ends; be safe all the same.
            leaving = false
        case .children(let pids): children = pids
        case .leaving: leaving = true
        case .leavingCounter(let counter): leavingCounter = counter
        // The daemon re-executed in place (same pid, the pipe handed across): nothing changes.
        case .reloaded: break
        }
    }

    /// The pipe reached its end: the daemon is gone. What to release (nothing if it left
    /// cleanly, never held a role or had stopped); the sentinel exits once these are carried out.
    package func daemonEnded() -> [SupervisorStateMachine.Action] {
        if leaving { return [] }
        if (role == .initial || role == .stopped) && children.isEmpty { return [] }
        return [
            .log(
                .error,
                "The instance (pid \(daemon)) died while \(role.rawValue) without leaving: the sentinel cleans up after it"
            )
        ] + withoutStrictLeaving(SupervisorStateMachine.cleanUp(role: role, children: children))
    }

    /// Under `--auth=strict` a leaving advertisement must carry a counter above every one the
    /// dead daemon sent (a receiver drops any counter not above the last it accepted from the
    /// source) and below every one its successor will send. A new epoch taken from
    /// `--auth-state`, as a supervisor takes it (it starts the successor itself, after), would
    /// not do: a successor started meanwhile (runit, a shell loop, a quick `Restart=`) takes
    /// the next epoch from the same file, and the sentinel's would rank above it, its adverts
    /// dropped as replays. So the daemon tells the sentinel a counter of its own epoch ahead of
    /// what it sends (``leavingCounter(beforeSending:told:)``): above every advert it sent, and
    /// below the successor's, whose epoch is above the daemon's. Without one (the daemon died
    /// before its first advert, or a predecessor of before told none) it sends none: the
    /// backups take over when the dead master's adverts time out, as without a sentinel.
    private func withoutStrictLeaving(_ actions: [SupervisorStateMachine.Action]) -> [SupervisorStateMachine.Action] {
        guard strict, leavingCounter == nil, actions.contains(.sendLeavingAdvertisement) else { return actions }
        return actions.filter { $0 != .sendLeavingAdvertisement } + [
            .log(
                .info,
                "No leaving advertisement under --auth=strict from the sentinel: pid \(daemon) told no counter for it; the backups take over when its adverts time out"
            )
        ]
    }

    /// How far ahead of the counter sent the leaving counter told is: 2¹⁶ adverts, 18 hours at
    /// advbase 1. It is told again once half of that is used: one write to the pipe every 9
    /// hours at advbase 1 (every 2 minutes at the fastest rate, 256 adverts a second), not one
    /// per advert.
    package static let leavingCounterLead: UInt64 = 1 << 16

    /// Before the daemon sends an advert with `counter` under `--auth=strict`: the leaving
    /// counter to tell the sentinel first, nil if the one `told` still does (it stays above
    /// `counter` by more than half the lead). It stays within `counter`'s epoch (below the
    /// next epoch's first counter, where a successor starts at the earliest), unless `counter`
    /// is the epoch's very last.
    /// A `told` beyond `counter`'s epoch is never kept (whatever put it there: a counter of
    /// another mode), as peers would take it as the highest of this source, above a successor's.
    package static func leavingCounter(beforeSending counter: UInt64, told: UInt64?) -> UInt64? {
        let epochLast = counter | 0xFFFF_FFFF
        if let told, told > counter, told - counter > leavingCounterLead / 2, told <= epochLast { return nil }
        guard counter < epochLast else { return counter &+ 1 }
        return min(counter &+ leavingCounterLead, epochLast)
    }
}
