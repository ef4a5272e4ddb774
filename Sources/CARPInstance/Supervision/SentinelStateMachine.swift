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
    /// dead daemon sent and below every one its successor will send. A supervisor can take a
    /// new epoch for it (``StrictCounterFile``), as it starts the successor itself, after; the
    /// sentinel cannot: a successor started meanwhile (runit, a shell loop, a quick `Restart=`)
    /// takes the next epoch from the same file, and the sentinel's would then rank above it,
    /// its adverts dropped as replays. So the sentinel sends none: the backups take over when
    /// the dead master's adverts time out, as they would without a sentinel.
    private func withoutStrictLeaving(_ actions: [SupervisorStateMachine.Action]) -> [SupervisorStateMachine.Action] {
        guard strict, actions.contains(.sendLeavingAdvertisement) else { return actions }
        return actions.filter { $0 != .sendLeavingAdvertisement } + [
            .log(
                .info,
                "No leaving advertisement under --auth=strict from the sentinel: the backups take over when the adverts of pid \(daemon) time out"
            )
        ]
    }
}
