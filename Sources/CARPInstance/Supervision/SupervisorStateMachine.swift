import CARPCore
import Logging

/// What the supervising parent of a daemonized instance decides, with the I/O taken out: when
/// to start the worker, which signals to pass on, what a worker's death leaves to clean up,
/// when to restart it and when to give up.
///
/// keepalived's model: a small parent that outlives the process doing the work. The worker
/// reports its role and the pids of its children (scripts, checks) on a pipe
/// (``SupervisorStateMachine/Report``); when it dies in a way that is not one of its documented ends, the
/// parent kills the children it left, sends the leaving advertisement (if it was MASTER),
/// runs the down script with `CARP_REASON=daemon-died`, records STOPPED, and restarts it
/// after a back-off, unless it died ``Policy/deathsBeforeGivingUp`` times within
/// ``Policy/window``. Its documented ends (exit 0 to 3, death by HUP, INT, QUIT or TERM, which
/// without `--shutdown` leave the address as ucarp does) are the supervisor's own.
package struct SupervisorStateMachine {
    /// When to restart and when to stop trying.
    package struct Policy: Equatable {
        /// Deaths within ``window`` that make the supervisor give up.
        var deathsBeforeGivingUp = 5
        var window = MonotonicDuration.seconds(60)
        /// The wait after the first death in the window; it doubles with each further one.
        var firstDelay = MonotonicDuration.seconds(1)
        var longestDelay = MonotonicDuration.seconds(30)
    }

    /// How the worker ends of its own accord or by a signal it handles: nothing to clean up.
    package static let documentedExits: ClosedRange<Int32> = 0...3
    package static let terminationSignals: Set<Int32> = [
        Instance.Signal.hangUp.rawValue, Instance.Signal.interrupt.rawValue, Instance.Signal.quit.rawValue,
        Instance.Signal.terminate.rawValue,
    ]

    package enum Action: Equatable {
        case log(Logger.Level, String)
        /// Fork a new worker; report it with ``workerStarted(pid:at:)``.
        case startWorker
        /// Send this signal to the worker.
        case forward(Instance.Signal)
        /// Collect the worker if it ended; report with ``workerEnded(_:at:)``.
        case reap
        /// SIGKILL the process group of each of the dead worker's children (the supervisor is
        /// their subreaper, so none can be reaped and its pid reused before we do).
        case killOrphans([Int32])
        /// The advertisement with advbase 255 and advskew 255 that makes backups take over at once.
        case sendLeavingAdvertisement
        /// Run the down script with `CARP_REASON=daemon-died` and wait for it (at most the
        /// script timeout).
        case runDownScript(previous: ReportedState)
        /// Run the notify script (`--notify`), if any, with STOP and `CARP_REASON=daemon-died`,
        /// as keepalived tells STOP when it stops, and wait for it.
        case notifyStop(previous: ReportedState)
        /// Replace the state file with STOPPED, reason `daemon-died`.
        case recordStopped(previous: ReportedState)
        case exit(ExitStatus)
        /// Die of this signal, as the worker did.
        case dieOf(Instance.Signal)
        /// Execute the binary on disk in place, handing this machine's ``snapshot`` across
        /// (the worker has reloaded: a package upgrade reaches the supervisor too); if that
        /// fails, carry on as before.
        case reexecute
    }

    package enum Phase: Equatable {
        /// Before ``started(at:)``.
        case idle
        /// A worker runs, with this pid (0 until ``workerStarted(pid:at:)``).
        case running(pid: Int32)
        /// Waiting out the back-off until this instant.
        case waiting(until: MonotonicInstant)
        case finished
    }

    package let policy: Policy
    /// `--shutdown`: a termination signal during the back-off ends the supervisor with exit 0.
    package let shutdown: Bool
    package private(set) var phase = Phase.idle
    /// What the worker said last.
    package private(set) var role = ReportedState.initial
    package private(set) var children: [Int32] = []
    /// When the workers died, within the last ``Policy/window``.
    package private(set) var deaths: [MonotonicInstant] = []
    /// A termination signal was passed on: the worker's death is the end, whatever it is.
    package private(set) var stopping = false
    /// The worker said it reloaded: the supervisor re-executes once this turn's events are in
    /// (``settled(at:)``), unless the worker died meanwhile.
    package private(set) var reexecutionDue = false

    package init(policy: Policy = Policy(), shutdown: Bool) {
        self.policy = policy
        self.shutdown = shutdown
    }

    /// The machine a re-executed supervisor carries on with: its worker running, what it
    /// reported and the deaths counted before.
    package init(resuming snapshot: Snapshot, policy: Policy = Policy()) {
        self.policy = policy
        shutdown = snapshot.shutdown
        phase = .running(pid: snapshot.worker)
        role = snapshot.role
        children = snapshot.children
        deaths = snapshot.deaths
    }

    /// What a re-execution hands across, with the part of a report not read whole yet; nil
    /// unless a worker runs (``settled(at:)`` asks for it only then).
    package func snapshot(pending: [UInt8]) -> Snapshot? {
        guard case .running(let pid) = phase, pid > 0, !stopping else { return nil }
        return Snapshot(
            worker: pid, role: role, children: children, deaths: deaths, shutdown: shutdown, pending: pending)
    }

    /// The new image runs: the worker may have ended while it started (its SIGCHLD was
    /// pending across `execve`, the child is still this process's), so collect it first.
    package func resumed(at now: MonotonicInstant) -> [Action] {
        guard case .running(let pid) = phase else { return [] }
        return [.log(.info, "Supervisor re-executed, watching the instance (pid \(pid)) as before"), .reap]
    }

    package var nextDeadline: MonotonicInstant? {
        guard case .waiting(let until) = phase else { return nil }
        return until
    }

    // MARK: Events

    package mutating func started(at now: MonotonicInstant) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .running(pid: 0)
        return [.startWorker]
    }

    package mutating func workerStarted(pid: Int32, at now: MonotonicInstant) {
        role = .initial
        children = []
        phase = .running(pid: pid)
    }

    /// The fork failed: there is no instance to supervise.
    package mutating func workerFailedToStart(_ reason: String, at now: MonotonicInstant) -> [Action] {
        phase = .finished
        return [.log(.error, "Unable to start the instance: \(reason)"), .exit(.runtimeFailure)]
    }

    /// A line from the worker.
    package mutating func received(_ report: Report) {
        switch report {
        case .role(let role): self.role = role
        case .children(let pids): children = pids
        case .reloaded: reexecutionDue = true
        // The exit status tells the supervisor as much (``workerEnded(_:at:)``).
        case .leaving: break
        // The sentinel's: a supervisor signs its leaving advert from a new epoch, as it starts
        // the successor itself, after.
        case .leavingCounter: break
        }
    }

    /// Every event of the loop's turn is handled (reports read, the worker reaped if it
    /// ended): the re-execution a reload asked for goes ahead only now, with a worker that is
    /// still running and not being stopped, so that no death is left between two images.
    package mutating func settled(at now: MonotonicInstant) -> [Action] {
        guard reexecutionDue else { return [] }
        reexecutionDue = false
        guard case .running(let pid) = phase, pid > 0, !stopping else { return [] }
        return [.reexecute]
    }

    package mutating func received(signal: Instance.Signal, at now: MonotonicInstant) -> [Action] {
        switch (phase, signal) {
        case (.finished, _), (.idle, _):
            return []
        case (_, .child):
            return [.reap]
        case (.running, _):
            if Self.terminationSignals.contains(signal.rawValue) { stopping = true }
            return [.forward(signal)]
        case (.waiting(let until), .user1), (.waiting(let until), .user2):
            let seconds = Double(until.duration(since: now).millisecondsRoundedUp) / 1000
            return [.log(.info, "No instance running: the next one starts in \(seconds) s")]
        case (.waiting, _):
            // The address went with the dead worker's clean-up: nothing is left to hand over.
            phase = .finished
            return shutdown ? [.exit(.success)] : [.dieOf(signal)]
        }
    }

    /// The worker ended (after ``Action/reap``); `pid` is the one reaped.
    package mutating func workerEnded(_ status: Child.Status, at now: MonotonicInstant) -> [Action] {
        guard case .running(let pid) = phase else { return [] }
        reexecutionDue = false
        switch status {
        case .exited(let code) where Self.documentedExits.contains(code):
            phase = .finished
            return [.exit(ExitStatus(rawValue: code) ?? .runtimeFailure)]
        case .killed(let signal) where Self.terminationSignals.contains(signal):
            phase = .finished
            return [.dieOf(Instance.Signal(rawValue: signal) ?? .terminate)]
        default:
            break
        }
        var actions: [Action] = [
            .log(
                .error,
                "The instance (pid \(pid)) \(Self.describe(status)) while \(role.rawValue): cleaning up after it")
        ]
        actions += cleanUp()
        deaths = deaths.filter { now.duration(since: $0) < policy.window } + [now]
        if stopping {
            phase = .finished
            return actions + [.exit(.runtimeFailure)]
        }
        if deaths.count >= policy.deathsBeforeGivingUp {
            phase = .finished
            let seconds = policy.window.nanoseconds / 1_000_000_000
            return actions + [
                .log(.error, "The instance died \(deaths.count) times in \(seconds) s: giving up"),
                .exit(.gaveUp),
            ]
        }
        var delay = policy.firstDelay
        for _ in 1..<deaths.count where delay < policy.longestDelay { delay = delay + delay }
        delay = min(delay, policy.longestDelay)
        phase = .waiting(until: now + delay)
        let seconds = Double(delay.nanoseconds) / 1e9
        return actions + [
            .log(
                .warning,
                "Restarting the instance in \(seconds) s (death \(deaths.count) of \(policy.deathsBeforeGivingUp) allowed in \(policy.window.nanoseconds / 1_000_000_000) s)"
            )
        ]
    }

    package mutating func timePassed(at now: MonotonicInstant) -> [Action] {
        guard case .waiting(let until) = phase, now >= until else { return [] }
        phase = .running(pid: 0)
        return [.log(.warning, "Restarting the instance"), .startWorker]
    }

    // MARK: Internals

    /// What a dead worker leaves behind: its children first (an up script still running
    /// would add the address after the down script removed it), then the hand-over.
    private mutating func cleanUp() -> [Action] {
        let actions = Self.cleanUp(role: role, children: children)
        role = .initial
        children = []
        return actions
    }

    /// What an instance that died as `role`, with these `children` running, leaves to clean
    /// up: the supervisor's after its worker, the ``SentinelStateMachine``'s after its daemon.
    package static func cleanUp(role: ReportedState, children: [Int32]) -> [Action] {
        var actions: [Action] = []
        if !children.isEmpty { actions.append(.killOrphans(children)) }
        // A script in flight may have been the up script, or a down script now killed.
        if role == .master || !children.isEmpty { actions.append(.runDownScript(previous: role)) }
        // After the down script: the address leaves this host before the leaving advert lets
        // a backup take it at once (the other order gave two holders for the script's time).
        if role == .master { actions.append(.sendLeavingAdvertisement) }
        if role != .initial { actions.append(.notifyStop(previous: role)) }
        actions.append(.recordStopped(previous: role))
        return actions
    }

    package static func describe(_ status: Child.Status) -> String {
        switch status {
        case .exited(let code): "exited with status \(code)"
        case .killed(let signal): "was killed by signal \(signal)"
        case .unknown: "ended, its exit status unknown,"
        }
    }
}

extension SupervisorStateMachine {
    /// One line from the worker to the supervisor, at most a few hundred bytes (a pipe writes
    /// that much at once).
    package enum Report: Equatable {
        /// The state after a change.
        case role(ReportedState)
        /// The pids of the worker's running children, each the leader of its process group.
        case children([Int32])
        /// The worker re-executed the binary on disk (`ucarp --reload`) and carries on in it.
        case reloaded
        /// The instance is about to end in one of its documented ways (an exit, or death by a
        /// termination signal it handles) after its own clean-up: nothing is left to release.
        case leaving
        /// `--auth=strict`: a counter above every one sent so far and every one sent until the
        /// next such line (``SentinelStateMachine/leavingCounter(beforeSending:told:)``), for
        /// the sentinel's leaving advertisement.
        case leavingCounter(UInt64)

        package var line: String {
            switch self {
            case .role(let role): "ROLE \(role.rawValue)\n"
            case .children(let pids): (["CHILDREN"] + pids.map(String.init)).joined(separator: " ") + "\n"
            case .reloaded: "RELOADED\n"
            case .leaving: "LEAVING\n"
            case .leavingCounter(let counter): "LEAVING-COUNTER \(counter)\n"
            }
        }

        /// A line without its newline; nil for anything else.
        init?(line: Substring) {
            let words = line.split(separator: " ")
            switch words.first {
            case "ROLE" where words.count == 2:
                guard let role = ReportedState(rawValue: String(words[1])) else { return nil }
                self = .role(role)
            case "CHILDREN":
                var pids: [Int32] = []
                for word in words.dropFirst() {
                    guard let pid = Int32(word), pid > 0 else { return nil }
                    pids.append(pid)
                }
                self = .children(pids)
            case "RELOADED" where words.count == 1:
                self = .reloaded
            case "LEAVING" where words.count == 1:
                self = .leaving
            case "LEAVING-COUNTER" where words.count == 2:
                guard let counter = UInt64(words[1]) else { return nil }
                self = .leavingCounter(counter)
            default:
                return nil
            }
        }

        /// The complete lines at the start of `buffer`, which keeps the incomplete rest.
        package static func take(from buffer: inout [UInt8]) -> [Report] {
            var reports: [Report] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if let report = Report(line: text[...]) { reports.append(report) }
            }
            return reports
        }
    }
}
