import CARPCore
import CARPInstance
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// The supervising parent of a daemonized instance (or of one in the foreground with
/// `--watchdog`), the shell of ``SupervisorStateMachine``: it holds
/// the pid file, forks the worker (which runs the ``Daemon``), passes signals on to it,
/// reads its reports, and cleans up after it and restarts it when it dies.
///
/// It is small on purpose, and does no CARP of its own: it never reads the capture, and sends
/// only the leaving advertisement of a worker that died as master, through the capture opened
/// before daemonizing. A subreaper, so that the scripts of a dead worker become its children
/// and can be killed by process group without a pid being reused meanwhile.
final class Supervisor {
    /// The instance opened before daemonizing: the first worker runs it; the supervisor sends
    /// through its capture and runs its scripts.
    let first: Daemon
    let pidFile: PidFile?
    var supervision: SupervisorStateMachine
    var worker: pid_t = 0
    var workersStarted = 0
    var reports: FileDescriptor?
    var buffer: [UInt8] = []
    /// Set in a re-executed supervisor: it carries on watching the worker instead of starting one.
    private let resuming: Bool

    init(first: Daemon) {
        self.first = first
        pidFile = first.pidFile
        first.pidFile = nil
        supervision = SupervisorStateMachine(shutdown: first.settings.shutsDown)
        resuming = false
    }

    /// The supervisor a re-executed one carries on as (``SupervisorHandover``): `first` is an
    /// instance opened afresh (its capture for the leaving advertisement), the pid file, the
    /// worker and its pipe the predecessor's.
    init(
        resuming first: Daemon, handover: SupervisorHandover, snapshot: SupervisorStateMachine.Snapshot,
        pidFile path: String?
    ) {
        self.first = first
        pidFile = handover.pidFile.flatMap { descriptor in
            path.map { PidFile(inherited: descriptor, path: FilePath($0)) }
        }
        first.pidFile = nil
        supervision = SupervisorStateMachine(resuming: snapshot)
        worker = snapshot.worker
        workersStarted = 1
        reports = handover.reports
        try? System.setCloseOnExec(handover.reports, subject: "the worker's reports")
        buffer = snapshot.pending
        resuming = true
    }

    var logger: Logger { first.logger }

    func run() -> Never {
        // A worker's report to a supervisor that is gone must fail (EPIPE), not kill it before
        // it can leave (``Instance/supervisorLost(at:)``); ``Daemonizer/detach()`` ignores it
        // already, the foreground (`--watchdog`) did not. Scripts get every signal back at its
        // default (swiftcarp_spawn).
        signal(SIGPIPE, SIG_IGN)
        do throws(DaemonError) {
            try System.becomeSubreaper()
            try pidFile?.write(pid: getpid())
        } catch {
            logger.error("\(error.description)")
            finish(.exit(.startupFailed))
        }
        perform(
            resuming ? supervision.resumed(at: MonotonicClock.now()) : supervision.started(at: MonotonicClock.now()))
        var descriptors = [
            pollfd(fd: first.signals.descriptor.rawValue, events: Int16(POLLIN), revents: 0),
            pollfd(fd: -1, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            descriptors[1].fd = reports?.rawValue ?? -1
            var timeout: CInt = -1
            if let deadline = supervision.nextDeadline {
                let wait = deadline.duration(since: MonotonicClock.now()).millisecondsRoundedUp
                timeout = CInt(min(wait, UInt64(CInt.max)))
            }
            do throws(DaemonError) {
                _ = try System.poll(&descriptors, timeout: timeout, subject: "the supervisor's descriptors")
            } catch {
                // Nothing is ready then; the deadlines below still pass, and reaping comes with
                // SIGCHLD on the next call.
                logger.error("\(error.description)")
            }
            if descriptors[1].revents != 0 { readReports() }
            if descriptors[0].revents != 0 {
                for number in first.signals.pending() {
                    guard let signal = Instance.Signal(rawValue: number) else { continue }
                    perform(supervision.received(signal: signal, at: MonotonicClock.now()))
                }
            }
            perform(supervision.timePassed(at: MonotonicClock.now()))
            perform(supervision.settled(at: MonotonicClock.now()))
        }
    }

    // MARK: Actions

    private func perform(_ actions: [SupervisorStateMachine.Action]) {
        for action in actions {
            switch action {
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            case .startWorker:
                startWorker()
            case .forward(let signal):
                if worker > 0 {
                    signalling { () throws(DaemonError) in
                        try System.signal(worker, signal.rawValue, subject: "the worker")
                    }
                }
            case .reap:
                reap()
            case .killOrphans(let pids):
                for pid in pids {
                    signalling { () throws(DaemonError) in
                        try System.signalGroup(pid, SIGKILL, subject: "the orphan group \(pid)")
                    }
                }
            case .sendLeavingAdvertisement:
                first.sendLeavingAdvertisement()
            case .runDownScript(let previous):
                first.runDownScript(previous: previous)
            case .notifyStop(let previous):
                first.notifyStop(previous: previous)
            case .recordStopped(let previous):
                first.recordStopped(previous: previous)
            case .reexecute:
                reexecute()
            case .exit, .dieOf:
                finish(action)
            }
        }
    }

    /// Runs `send`, a `kill` of a process or group that may have ended since (it is reaped
    /// with the next SIGCHLD): only a failure other than `ESRCH` is worth a word.
    private func signalling(_ send: () throws(DaemonError) -> Void) {
        do throws(DaemonError) {
            try send()
        } catch {
            if case .system(_, _, .noSuchProcess) = error { return }
            logger.error("\(error.description)")
        }
    }

    private func startWorker() {
        let now = MonotonicClock.now()
        let link: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        let pid: pid_t
        do throws(DaemonError) {
            link = try System.pipe(subject: "the worker's reports")
            pid = try System.fork(subject: "the worker")
        } catch {
            perform(supervision.workerFailedToStart(error.description, at: now))
            return
        }
        workersStarted += 1
        if pid == 0 { runWorker(link: link, fresh: workersStarted > 1) }
        // Its own process group: a signal to the supervisor's group (a terminal's, or
        // `kill -- -PGID` of the pid file's pid) does not reach it. Set on both sides of the
        // fork, so it holds before either goes on; losing that race (EACCES after an exec,
        // which a worker never does) changes nothing.
        try? System.leadProcessGroup(pid, subject: "the worker")
        System.release(link.writeEnd)
        if let reports { System.release(reports) }
        reports = link.readEnd
        buffer = []
        worker = pid
        supervision.workerStarted(pid: pid, at: now)
        if workersStarted == 1, first.settings.daemonize {
            // The first worker finishes the start-up (Daemonizer): the supervisor's own
            // errors go to syslog from now on, the starting command waits for the worker alone.
            // In the foreground (--watchdog) both log where they were started.
            first.logOutput.terminal = .none
            try? System.duplicate(.standardInput, as: .standardError, subject: "standard error")
        }
    }

    /// In the forked worker: the instance opened before daemonizing the first time, a fresh
    /// one (new capture, new counter) after a death.
    private func runWorker(link: (readEnd: FileDescriptor, writeEnd: FileDescriptor), fresh: Bool) -> Never {
        try? System.leadProcessGroup(0, subject: "the worker")
        // The Swift runtime's crash handler symbolicates a backtrace before the process dies,
        // which takes seconds, for a standard error that is /dev/null once detached: a
        // crashing worker dies at once instead, and the supervisor releases the address.
        for crash in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] { signal(crash, SIG_DFL) }
        System.release(link.readEnd)
        if let reports { System.release(reports) }
        let daemon: Daemon
        if fresh {
            var settings = first.settings
            settings.pidFile = nil
            do {
                daemon = try Daemon(
                    settings: settings, logger: logger, logOutput: first.logOutput, version: first.version)
            } catch {
                logger.error("\(error.description)")
                exit(ExitStatus.startupFailed.rawValue)
            }
        } else {
            daemon = first
        }
        if fresh { daemon.reload = first.reload.map { ReloadContext(fresh: $0) } }
        daemon.attachSupervisor(link: link.writeEnd)
        exit(daemon.run().rawValue)
    }

    /// Every child that ended: the worker, and orphans of its that were killed or finished.
    private func reap() {
        while let (pid, status) = System.reapAny() {
            guard pid == worker else { continue }
            worker = 0
            // Its last reports are in the pipe whole: read them before deciding.
            while reports != nil { readReports() }
            perform(supervision.workerEnded(Child.Status(waitStatus: status), at: MonotonicClock.now()))
        }
    }

    private func readReports() {
        guard let descriptor = reports else { return }
        let chunk = (try? System.read(descriptor, upTo: 4096, subject: "the worker's reports")) ?? []
        if chunk.isEmpty {
            System.release(descriptor)
            reports = nil
            return
        }
        buffer += chunk
        for report in SupervisorStateMachine.Report.take(from: &buffer) { supervision.received(report) }
    }

    private func finish(_ action: SupervisorStateMachine.Action) -> Never {
        pidFile?.remove()
        switch action {
        case .dieOf(let signal):
            Daemon.dieOfSignal(signal.rawValue)
        case .exit(let status):
            exit(status.rawValue)
        default:
            preconditionFailure("\(action) does not end the supervisor")
        }
    }
}

extension Daemon {
    /// `--daemonize` or `--watchdog`: runs the instance in a worker under a ``Supervisor`` that
    /// releases the address and restarts it when it dies. Call after ``daemonize()``, if at all.
    public func runSupervised() -> Never {
        Supervisor(first: self).run()
    }
}
