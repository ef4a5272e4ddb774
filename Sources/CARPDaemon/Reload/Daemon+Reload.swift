import CARPCore
import CARPInstance
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// `ucarp --reload`: read the command line and files again, refuse what would make another
/// instance, then re-execute the binary on disk with the state handed across.
extension Daemon {
    /// Opens the control socket (or takes the predecessor's); without it the instance runs
    /// on, unreachable by `--reload`.
    func openControlSocket() {
        do throws(DaemonError) {
            if let handover = reload?.resume?.handover {
                control = try ControlSocket(inherited: handover.listener)
            } else if reload != nil {
                control = try ControlSocket()
            }
        } catch {
            logger.warning("No control socket, ucarp --reload cannot reach this instance: \(error.description)")
        }
    }

    /// A re-executed supervised worker: reports to its supervisor again and, detached
    /// (`--daemonize`), works in / as before (a `--watchdog` worker stays where it was started:
    /// its relative paths are read there at the next reload). Call before ``run()``.
    package func resumeUnderSupervisor() {
        guard let resume = reload?.resume, let link = resume.handover.supervisor else { return }
        if resume.snapshot.daemonized { _ = chdir("/") }
        attachSupervisor(link: link)
    }

    /// Carries on from the predecessor's state (instead of starting), and tells the client.
    func resume(_ handover: ResumeHandover, _ snapshot: InstanceSnapshot, at now: MonotonicInstant) {
        for (id, pid) in snapshot.runningChildren { children.adopt(id, pid: pid) }
        retiredSentinels = snapshot.retiredSentinels
        reapRetiredSentinels()
        switch snapshot.machine.role {
        case .master: reportedRole = .master
        case .backup: reportedRole = .backup
        case .fault: reportedRole = .fault
        }
        if !snapshot.runningChildren.isEmpty { report(.children(children.pids)) }
        // A sentinel started afresh (the predecessor had none) learns the role carried on.
        if snapshot.sentinel == nil { tellSentinel(.role(reportedRole)) }
        perform(instance.resumed(from: snapshot, at: now), at: now)
        // --auth=strict: the counter of the sentinel's leaving advert, above the last sent, as
        // the resumed machine carries it on: the predecessor's in the same mode; none across a
        // change of mode (a ucarp counter is random; the strict one starts afresh, as at a
        // start, and the first advert tells it).
        if sentinelLink != nil, settings.authentication == .strict, let last = instance.machine.counter {
            tellSentinelLeavingCounter(beforeSending: last &+ 1)
        }
        resumeHostRecord(from: snapshot)
        // The predecessor's sentinel holds the settings it started with (the scripts, the
        // state file, --xparam may have changed): a fresh one takes its place, told the role.
        // Only now, when this process is certain to carry on (no fall-back to the old binary
        // can follow resume), so that the old one never goes for a process that does not.
        if snapshot.sentinel != nil { sentinelLost(.reloaded, at: now) }
        System.release(handover.state)
        System.release(handover.oldProgram)
        if let reason = handover.fallbackReason {
            logger.error("Reload failed, the old binary carries on: \(reason)")
            ControlSocket.answer(handover.client, "failed: \(reason); the old binary carries on\n")
        } else {
            ControlSocket.answer(
                handover.client, "reloaded: pid \(getpid()) runs \(reload?.executable ?? "?") (SwiftCARP \(version))\n")
            // The supervisor, if any, re-executes the binary on disk in turn.
            report(.reloaded)
        }
    }

    /// Answers the requests complete on the control socket.
    func serveControl(_ slots: ArraySlice<pollfd>, at now: MonotonicInstant) {
        // The reload context (the snapshot to hand over, large) is copied out only for a
        // request, not at every wake-up.
        guard let control, case .some = reload else { return }
        let requests = control.service(slots, at: now)
        guard !requests.isEmpty, let reload else { return }
        for (connection, request) in requests {
            switch request {
            case .identify:
                ControlSocket.answer(connection, reload.identity.lines + "pid=\(getpid())\nversion=\(version)\n")
            case .reload:
                reloadRequested(answering: connection, context: reload, at: now)
            }
        }
    }

    /// How far the instance's next deadline must be for the re-execution to start: the new
    /// process is running well before then, so the next advertisement is not late.
    static let reloadClearance = MonotonicDuration.milliseconds(200)
    /// How long a reload is put off at most; then it goes ahead, a deadline near or not.
    static let reloadPutOffLimit = MonotonicDuration.seconds(2)

    /// Carries out a reload put off, once the instance's next deadline is far enough.
    func reloadWhenClear(at now: MonotonicInstant) {
        guard let pending = pendingReload, exitStatus == nil, !pending.awaitingEtcd else { return }
        if let next = instance.nextDeadline, next.duration(since: now) < Self.reloadClearance,
            now.duration(since: pending.since) < Self.reloadPutOffLimit
        {
            return
        }
        pendingReload = nil
        reloadRequested(
            answering: pending.client, context: pending.context, at: now, clear: true, etcdMovedTo: pending.etcdMovedTo,
            etcdReadySince: pending.etcdReadySince)
    }

    /// A `reload` request: refused, put off until clear of the deadlines (`clear` false), or
    /// carried out (`clear` true: the checks are made again, the instance may have moved on).
    private func reloadRequested(
        answering client: FileDescriptor, context: ReloadContext, at now: MonotonicInstant, clear: Bool = false,
        etcdMovedTo: Settings? = nil, etcdReadySince: MonotonicInstant? = nil
    ) {
        if !clear, pendingReload != nil {
            ControlSocket.answer(client, "busy: another reload is under way; try again\n")
            return
        }
        var new: Settings?
        var refusal = reloadRefusal(context, parsed: &new)
        // The files changed again while the lease moved: the move was for other settings.
        if refusal == nil, let target = etcdMovedTo, let new, Instance.etcdMoves(from: target, to: new) {
            refusal = .busy("the etcd settings changed again during the reload")
        }
        // The move settled for this reload may have been called off since (the new lease lost).
        if refusal == nil, clear, let new { refusal = instance.etcdMoveRefusal(to: new) }
        if let refusal {
            // The etcd move is ready (the new lease renewed by it, the old one by the guard):
            // a passing refusal is waited out for a while rather than undoing the move.
            if clear, instance.etcdMoveWaitsOut(refusal, readySince: etcdReadySince, at: now) {
                logger.debug("Reload put off after the etcd move: \(refusal.description)")
                pendingReload = PendingReload(
                    client: client, context: context, since: now, etcdMovedTo: etcdMovedTo,
                    etcdReadySince: etcdReadySince)
                return
            }
            // A move already made is undone (the new lease revoked): the reload does not go
            // ahead, and a master carries on with its old lease, never revoked before `execve`.
            if clear { perform(instance.etcdMoveFailed(refusal.description, at: now), at: now) }
            if refusal.isTransient {
                logger.debug("Reload put off: \(refusal.description)")
                ControlSocket.answer(client, "\(refusal.description)\n")
            } else {
                logger.warning("Reload refused: \(refusal.description)")
                ControlSocket.answer(client, "refused: \(refusal.description)\n")
            }
            return
        }
        guard clear else {
            pendingReload = PendingReload(client: client, context: context, since: now)
            if let new { beginEtcdMove(to: new, answering: client, at: now) }
            reloadWhenClear(at: now)
            return
        }
        let failure = reexecute(answering: client, context: context)
        // `execve` returned: the old settings carry on, with the old lease (still renewed).
        perform(instance.etcdMoveFailed(failure.message, at: now), at: now)
        logger.error("Reload failed, carrying on: \(failure.message)")
        ControlSocket.answer(client, "failed: \(failure.message)\n")
    }

    /// Why the reload cannot go ahead, nil if it can: the configuration read again, then the
    /// instance's own state.
    private func reloadRefusal(_ context: ReloadContext, parsed: inout Settings?) -> ReloadCheck.Refusal? {
        let command: UCarpCommandLine.Command
        do {
            var environment = UCarpCommandLine.Environment.system(interfaceExists: Self.interfaceExists)
            environment.currentDirectory = context.startDirectory ?? environment.currentDirectory
            command = try UCarpCommandLine.parse(bytes: context.arguments, environment: environment)
        } catch {
            return .invalidConfiguration(error.description)
        }
        guard case .run(let new, _) = command else {
            return .invalidConfiguration("the command line no longer starts an instance")
        }
        parsed = new
        if let change = ReloadCheck.identityChange(from: settings, to: new, interfaceName: interfaceName) {
            return change
        }
        if new.daemonize != settings.daemonize {
            return .unsupported("--daemonize cannot be added or removed by a reload")
        }
        if new.watchdog != settings.watchdog {
            return .unsupported("--watchdog cannot be added or removed by a reload")
        }
        if new.noSentinel != settings.noSentinel {
            return .unsupported("--no-sentinel cannot be added or removed by a reload")
        }
        guard context.executable != nil else { return .unsupported("the binary on disk is unknown (no /proc)") }
        if let refusal = instance.reloadRefusal { return refusal }
        guard let snapshot = instance.snapshot(daemonized: settings.daemonize, pid: children.pid(of:)) else {
            return .busy("the state is not ready to hand over")
        }
        // Only the running script and check are handed over: no other child may be left to collect.
        if children.pids.count != snapshot.runningChildren.count {
            return .busy("a child process is still to be collected")
        }
        return nil
    }

    /// Hands the state over and executes the binary on disk; returns only if that failed,
    /// everything put back as it was.
    private func reexecute(answering client: FileDescriptor, context: ReloadContext) -> ReloadFailure {
        guard let executable = context.executable, let control,
            var snapshot = instance.snapshot(daemonized: settings.daemonize, pid: children.pid(of:))
        else { return ReloadFailure("nothing to hand over") }
        snapshot.host.recordPath = hostState?.recordPath.string
        snapshot.sentinel = sentinelLink?.rawValue
        snapshot.sentinelPID = sentinelPID
        snapshot.retiredSentinels = retiredSentinels
        logger.info("Reloading: executing \(executable)")
        let failure = System.reexecute(
            state: snapshot.encoded, named: "swiftcarp-state", subject: "the state to hand over",
            inheriting: [control.listener, client] + [supervisorLink, sentinelLink].compactMap { $0 },
            program: executable,
            startDirectory: settings.daemonize ? context.startDirectory : nil
        ) { state, oldProgram in
            let handover = ResumeHandover(
                state: state, listener: control.listener, client: client, oldProgram: oldProgram,
                supervisor: supervisorLink)
            return [context.program] + context.arguments + handover.arguments
        }
        switch failure {
        case .executing(let errno):
            return ReloadFailure("cannot execute \(executable): \(errno.description); the old binary carries on")
        case .preparing(let error):
            return ReloadFailure("\(error.description); the old binary carries on")
        }
    }
}

/// A reload that passed its checks, waiting for a moment clear of the instance's deadlines.
struct PendingReload {
    var client: FileDescriptor
    var context: ReloadContext
    var since: MonotonicInstant
    /// A change of the etcd settings: the reload waits for the move to settle
    /// (``Instance/Action/etcdMoveSettled(refusal:)``).
    var awaitingEtcd = false
    /// The settings the etcd lease was moved for: the reload goes ahead only with them.
    var etcdMovedTo: Settings?
    /// When the etcd move became ready: passing refusals are retried for a while from then.
    var etcdReadySince: MonotonicInstant?
}

/// A reload that changes the etcd settings (``Instance/beginEtcdMove(to:hostName:at:)``).
extension Daemon {
    /// Begins the move the new etcd settings need, if any; the reload then waits for it.
    fileprivate func beginEtcdMove(to new: Settings, answering client: FileDescriptor, at now: MonotonicInstant) {
        guard Instance.etcdMoves(from: settings, to: new) else { return }
        if new.etcd != nil {
            do throws(DaemonError) {
                try startEtcdClientForMove()
            } catch {
                pendingReload = nil
                logger.warning("Reload refused: \(error.description)")
                ControlSocket.answer(client, "refused: \(error.description)\n")
                return
            }
        }
        etcdMoveTarget = new.etcd
        pendingReload?.awaitingEtcd = true
        pendingReload?.etcdMovedTo = new
        let hostName = new.etcd == nil ? "" : Self.hostName(logger: logger)
        let (plan, actions) = instance.beginEtcdMove(to: new, hostName: hostName, at: now)
        perform(actions, at: now)
        if plan == .unchanged, pendingReload?.awaitingEtcd == true {
            // No move begun (an earlier one still winding up): no answer would come.
            pendingReload = nil
            ControlSocket.answer(client, "busy: an earlier etcd move is still winding up; try again\n")
        }
    }

    /// The move has settled: the reload goes ahead once clear of the deadlines, or is refused.
    func etcdMoveSettled(refusal: String?, at now: MonotonicInstant) {
        guard var pending = pendingReload else { return }
        guard let refusal else {
            pending.awaitingEtcd = false
            pending.since = now
            pending.etcdReadySince = now
            pendingReload = pending
            return
        }
        pendingReload = nil
        ControlSocket.answer(pending.client, (refusal.hasPrefix("busy:") ? refusal : "refused: \(refusal)") + "\n")
    }
}
