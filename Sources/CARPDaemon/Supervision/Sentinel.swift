import CARPCore
import CARPInstance
import CSystemShims
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// The sentinel of a foreground instance, the shell of ``SentinelStateMachine``: a child
/// forked at start that blocks on a pipe only the daemon writes to, and releases the address
/// if the daemon ends without saying it leaves (SIGKILL, the OOM killer, a crash).
///
/// The daemon stays the process that was started, as ucarp's does (same pid, signals, pid
/// file; SIGSTOP freezes it). The sentinel ignores the signals a process group, a terminal or
/// a service manager's stop sends (they are the daemon's), does nothing until the pipe has
/// news (no timer, no wake-up while idle), and goes once it has acted on the pipe's end.
/// Without `--daemonize` or `--watchdog`; `--no-sentinel` leaves it out.
package enum Sentinel {
    /// Signals that reach the whole process group (a terminal's Ctrl-C, `kill -- -PGID`,
    /// systemd's stop of the cgroup): the daemon's to act on, never the sentinel's.
    static let ignoredSignals = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// What `ps` and `/proc/PID/comm` show for the sentinel.
    static let name = "ucarp-sentinel"

    /// The daemon's end of its sentinel's pipe and the sentinel's pid, for an instance
    /// `settings` starts in the foreground: the predecessor's after a reload (`resume`; its pid
    /// unknown from a predecessor that did not hand it over), else those of a sentinel forked
    /// now, which must come before anything else runs in the process (no thread, no libcurl).
    /// nil when none is wanted, or it could not be started (said in the log: the daemon runs
    /// as ucarp's does).
    ///
    /// A plain fork, not an exec: the cheapest sentinel (its pages shared with the daemon's),
    /// and safe only here, while the process has one thread and has loaded nothing. A fresh
    /// sentinel later (``spawn(program:arguments:)``) is executed instead.
    package static func link(
        for settings: Settings, resume: (handover: ResumeHandover, snapshot: InstanceSnapshot)?, logger: Logger,
        logOutput: LogOutput, version: String
    ) -> (link: FileDescriptor, pid: pid_t?)? {
        guard settings.sentinel else { return nil }
        if let inherited = resume?.snapshot.sentinel {
            return (FileDescriptor(rawValue: inherited), resume?.snapshot.sentinelPID)
        }
        let daemon = getpid()
        let link: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do throws(DaemonError) {
            link = try System.pipe(subject: "the sentinel's pipe")
        } catch {
            logger.warning("No sentinel: \(error.description): a SIGKILL of this process would leave the address")
            return nil
        }
        // The signals the sentinel ignores are held back across the fork: a TERM to the
        // process group in between would otherwise end the sentinel before it ignores them.
        var held = heldSignals
        var previous = sigset_t()
        sigprocmask(SIG_BLOCK, &held, &previous)
        let pid: pid_t
        do throws(DaemonError) {
            pid = try System.fork(subject: "the sentinel")
        } catch {
            sigprocmask(SIG_SETMASK, &previous, nil)
            System.release(link.readEnd)
            System.release(link.writeEnd)
            logger.warning("No sentinel: \(error.description): a SIGKILL of this process would leave the address")
            return nil
        }
        if pid == 0 {
            for number in ignoredSignals { signal(number, SIG_IGN) }
            sigprocmask(SIG_SETMASK, &previous, nil)
            System.release(link.writeEnd)
            // A reload from a predecessor without a sentinel: its descriptors are the daemon's.
            if let handover = resume?.handover {
                for descriptor in [handover.state, handover.listener, handover.client, handover.oldProgram]
                    + [handover.supervisor].compactMap({ $0 })
                {
                    System.release(descriptor)
                }
            }
            watch(
                link.readEnd, daemon: daemon, settings: settings, logger: logger, logOutput: logOutput, version: version
            )
        }
        sigprocmask(SIG_SETMASK, &previous, nil)
        System.release(link.readEnd)
        logger.debug("Sentinel started (pid \(pid))")
        return (link.writeEnd, pid)
    }

    /// ``ignoredSignals`` as a set, to block.
    static var heldSignals: sigset_t {
        var held = sigset_t()
        sigemptyset(&held)
        for number in ignoredSignals { sigaddset(&held, number) }
        return held
    }

    /// The hidden last argument of a sentinel executed by ``spawn(program:arguments:)``: the
    /// process is a sentinel, its daemon's pipe on descriptor 3, the daemon its parent.
    static let argument = "--swiftcarp-sentinel"

    /// The command line without the hidden argument, and whether it was there. Such a
    /// process must call ``ignoreSignals()`` first, then ``carryOn(settings:logger:logOutput:version:)``.
    package static func take(from arguments: [[UInt8]]) -> (arguments: [[UInt8]], sentinel: Bool) {
        guard arguments.last == Array(argument.utf8) else { return (arguments, false) }
        return (Array(arguments.dropLast()), true)
    }

    /// In an executed sentinel, first: the signals it ignores, held back by the daemon across
    /// the spawn, ignored (one pending is dropped), then let through.
    package static func ignoreSignals() {
        for number in ignoredSignals { signal(number, SIG_IGN) }
        var held = heldSignals
        sigprocmask(SIG_UNBLOCK, &held, nil)
    }

    /// An executed sentinel, once it has read its settings (the daemon's command line, read
    /// again): watches the pipe on descriptor 3 for its parent, the daemon.
    package static func carryOn(settings: Settings, logger: Logger, logOutput: LogOutput, version: String) -> Never {
        let pipe = FileDescriptor(rawValue: CInt(SWIFTCARP_SENTINEL_PIPE))
        try? System.setCloseOnExec(pipe, subject: "the daemon's pipe")
        watch(pipe, daemon: getppid(), settings: settings, logger: logger, logOutput: logOutput, version: version)
    }

    /// A fresh sentinel for a daemon that runs already (after a reload, or when its sentinel
    /// died): the daemon's end of its pipe (non-blocking, close-on-exec) and its pid.
    ///
    /// Executed (``System/spawnSentinel(argv:pipe:held:)``, posix_spawn of `/proc/self/exe`
    /// with the daemon's own command line and ``argument``), not only forked as at start: by
    /// now the process may have threads (libcurl's resolver, with `--etcd`) and libraries with
    /// locks (libcurl, OpenSSL, the Swift runtime's, swift-log's), and a forked child that ran
    /// our Swift code could hang on a lock another thread held at the fork. Nothing of ours
    /// runs between the spawn and the exec. The sentinel reads the command line and its files
    /// again, as the re-executed daemon just did; what it must release it hears on the pipe.
    static func spawn(program: [UInt8], arguments: [[UInt8]]) throws(DaemonError) -> (link: FileDescriptor, pid: pid_t)
    {
        let link = try System.pipe(subject: "the sentinel's pipe")
        defer { System.release(link.readEnd) }
        do throws(Errno) {
            let pid = try System.spawnSentinel(
                argv: [program] + arguments + [Array(argument.utf8)], pipe: link.readEnd, held: heldSignals)
            try? System.setNonBlocking(link.writeEnd, subject: "the sentinel's pipe")
            return (link.writeEnd, pid)
        } catch {
            System.release(link.writeEnd)
            throw .system(call: "posix_spawn", subject: "the sentinel", errno: error)
        }
    }

    /// In the forked sentinel: reads the daemon's reports until the pipe ends, then carries
    /// out what ``SentinelStateMachine/daemonEnded()`` decides, and exits.
    private static func watch(
        _ pipe: FileDescriptor, daemon: pid_t, settings: Settings, logger: Logger, logOutput: LogOutput,
        version: String
    ) -> Never {
        for number in ignoredSignals { signal(number, SIG_IGN) }
        retitle("\(name): releases the address of pid \(daemon) (vhid \(settings.vhid)) if it dies")
        var machine = SentinelStateMachine(daemon: daemon, strict: settings.authentication == .strict)
        var buffer: [UInt8] = []
        while true {
            // Blocks until the daemon writes or ends; a failure other than EINTR (retried)
            // cannot come from a pipe we hold, and would end it all the same.
            let chunk = (try? System.read(pipe, upTo: 512, subject: "the daemon's pipe")) ?? []
            if chunk.isEmpty { break }
            buffer += chunk
            for report in SupervisorStateMachine.Report.take(from: &buffer) { machine.received(report) }
        }
        System.release(pipe)
        Daemon.release(
            machine.daemonEnded(), settings: settings, interfaceName: nil, logger: logger, logOutput: logOutput,
            version: version, strictCounter: machine.leavingCounter)
        exit(ExitStatus.success.rawValue)
    }

    /// Rewrites the process's argv in place (what `ps` and `/proc/PID/cmdline` show, as BSD's
    /// `setproctitle` does) and its name (`/proc/self/comm`), so that the sentinel is told from
    /// the daemon, and a `pgrep -f` for the daemon's options does not find it.
    private static func retitle(_ title: String) {
        if let comm = try? System.open(FilePath("/proc/self/comm"), .writeOnly, options: [.closeOnExec]) {
            try? System.write(Array(name.utf8), to: comm, subject: "/proc/self/comm")
            System.release(comm)
        }
        guard let argv = swiftcarp_argv(), let first = argv[0] else { return }
        var end = first
        for index in 0..<Int(swiftcarp_argc()) {
            guard let argument = argv[index] else { continue }
            end = max(end, argument + strlen(argument))
        }
        let room = end - first
        guard room > 0 else { return }
        memset(first, 0, room)
        for (offset, byte) in title.utf8.prefix(room).enumerated() { first[offset] = CChar(bitPattern: byte) }
    }
}

extension Daemon {
    /// Carries out what a dead instance leaves to release (the ``SupervisorStateMachine``'s
    /// actions) in a process that holds no instance of its own: the sentinel, and
    /// `ucarp --cleanup`. An instance is opened only for the leaving advertisement.
    /// `interfaceName`: the dead instance's, nil for the one the settings name (or the default
    /// device, as the instance would have taken). `strictCounter`: the sentinel's for the
    /// leaving advertisement under `--auth=strict`, told by the dead daemon.
    static func release(
        _ actions: [SupervisorStateMachine.Action], settings: Settings, interfaceName: String?, logger: Logger,
        logOutput: LogOutput, version: String, strictCounter: UInt64? = nil
    ) {
        var settings = settings
        settings.pidFile = nil
        if settings.interface == nil { settings.interface = interfaceName }
        let interfaceName = settings.interface ?? PacketCapture.defaultDevice() ?? "?"
        for action in actions {
            switch action {
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            case .killOrphans(let pids):
                for pid in pids { try? System.signalGroup(pid, SIGKILL, subject: "the orphan group \(pid)") }
            case .sendLeavingAdvertisement:
                var opened = settings
                if strictCounter != nil {
                    // The counter is the dead daemon's: no epoch of its own is taken from
                    // --auth-state (a successor started meanwhile reads the file).
                    opened.authState = nil
                    opened.stateFile = nil
                }
                do {
                    try Daemon(settings: opened, logger: logger, logOutput: logOutput, version: version)
                        .sendLeavingAdvertisement(strictCounter: strictCounter)
                } catch {
                    logger.error("Unable to send the leaving advertisement: \(error.description)")
                }
            case .runDownScript(let previous):
                runDownScript(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
            case .notifyStop(let previous):
                notifyStop(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
            case .recordStopped(let previous):
                recordStopped(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
            case .startWorker, .forward, .reap, .reexecute, .exit, .dieOf:
                // A supervisor's, about its worker: there is none here.
                break
            }
        }
    }
}
