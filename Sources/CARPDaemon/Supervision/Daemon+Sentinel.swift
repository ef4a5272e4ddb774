import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// The daemon's side of its ``Sentinel``: what it tells it, and a fresh one when the old one
/// holds settings of before (a reload), ended, or reads no more (``SentinelKeeper``).
extension Daemon {
    /// From now on the sentinel `pid` hears of every change of state on `link`, and of the
    /// instance leaving. A write to a sentinel that is gone must fail (EPIPE), not kill the
    /// daemon: SIGPIPE is ignored (scripts get it back at its default, swiftcarp_spawn). The
    /// write end is non-blocking: a sentinel that stopped reading never stops the daemon.
    package func attachSentinel(link: FileDescriptor, pid: pid_t?) {
        signal(SIGPIPE, SIG_IGN)
        // A predecessor's handed across a reload had close-on-exec cleared for the execve.
        try? System.setCloseOnExec(link, subject: "the sentinel's pipe")
        try? System.setNonBlocking(link, subject: "the sentinel's pipe")
        sentinelLink = link
        sentinelPID = pid
        sentinelKeeper.started(at: MonotonicClock.now())
        instance.supervisorAttached()
    }

    /// Tells the sentinel, if there is one. One that is gone, or whose pipe is full (it reads
    /// no more), is replaced by a fresh one told the role and the scripts (``SentinelKeeper``);
    /// when the daemon is leaving, it is only killed.
    func tellSentinel(_ report: SupervisorStateMachine.Report) {
        guard let link = sentinelLink else { return }
        guard let failure = Self.tell([report], on: link) else { return }
        if report == .leaving {
            logger.warning("The sentinel could not be told this instance leaves (\(failure.description)): killed")
            retireSentinel(link, pid: sentinelPID, .killed)
            return
        }
        sentinelLost(failure == .wouldBlock ? .stuck : .ended, at: MonotonicClock.now())
    }

    /// `--auth=strict`, before an advert with `counter` goes: the sentinel hears a counter for
    /// its leaving advertisement above it, when the one it has is no longer far enough ahead
    /// (rarely: ``SentinelStateMachine/leavingCounter(beforeSending:told:)``).
    func tellSentinelLeavingCounter(beforeSending counter: UInt64) {
        guard let next = SentinelStateMachine.leavingCounter(beforeSending: counter, told: reportedLeavingCounter)
        else { return }
        reportedLeavingCounter = next
        tellSentinel(.leavingCounter(next))
    }

    /// The sentinel is to be replaced, for `loss`; see ``SentinelKeeper/lost(_:pid:at:)``.
    func sentinelLost(_ loss: SentinelKeeper.Loss, at now: MonotonicInstant) {
        guard let old = sentinelLink else { return }
        let oldPID = sentinelPID
        switch sentinelKeeper.lost(loss, pid: oldPID, at: now) {
        case .giveUp(let warning):
            logger.warning("\(warning)")
            retireSentinel(old, pid: oldPID, .killed)
        case .replace(let retirement, let warning):
            if let warning { logger.warning("\(warning)") }
            // One that did not hear everything goes before anything else is done.
            if retirement == .killed { retireSentinel(old, pid: oldPID, .killed) }
            let fresh: (link: FileDescriptor, pid: pid_t)
            do throws(SentinelStartFailure) {
                fresh = try freshSentinel()
            } catch {
                logger.warning(
                    retirement == .leaving
                        ? "No fresh sentinel after the reload: \(error.reason): the sentinel keeps the settings it started with"
                        : "No fresh sentinel: \(error.reason): a SIGKILL of this process would leave the address")
                return
            }
            // Make before break: the old one goes only once the fresh one knows the role.
            if retirement == .leaving { retireSentinel(old, pid: oldPID, .leaving) }
            sentinelLink = fresh.link
            sentinelPID = fresh.pid
            sentinelKeeper.started(at: now)
            logger.debug("Sentinel started (pid \(fresh.pid))")
        }
    }

    /// A fresh sentinel (``Sentinel/spawn(program:arguments:)``), told the role and the
    /// scripts' pids.
    private func freshSentinel() throws(SentinelStartFailure) -> (link: FileDescriptor, pid: pid_t) {
        guard let reload else { throw SentinelStartFailure(reason: "the command line is unknown") }
        let fresh: (link: FileDescriptor, pid: pid_t)
        do throws(DaemonError) {
            fresh = try Sentinel.spawn(program: reload.program, arguments: reload.arguments)
        } catch {
            throw SentinelStartFailure(reason: error.description)
        }
        let view: [SupervisorStateMachine.Report] =
            [.role(reportedRole)] + (reportedChildren.isEmpty ? [] : [.children(reportedChildren)])
            + (reportedLeavingCounter.map { [.leavingCounter($0)] } ?? [])
        if let failure = Self.tell(view, on: fresh.link) {
            retireSentinel(fresh.link, pid: fresh.pid, .killed)
            throw SentinelStartFailure(reason: "it could not be told the role (\(failure.description))")
        }
        return fresh
    }

    /// No sentinel from now on.
    private func forgetSentinel() {
        sentinelLink = nil
        sentinelPID = nil
    }

    /// The sentinel on `link` goes: told LEAVING (it exits quietly; killed if even that
    /// cannot be written), or killed before its pipe is closed; it is reaped when it has ended.
    func retireSentinel(_ link: FileDescriptor, pid: pid_t?, _ retirement: SentinelKeeper.Retirement) {
        var retirement = retirement
        if retirement == .leaving, Self.tell([.leaving], on: link) != nil { retirement = .killed }
        // A pid unknown (a predecessor of before this was handed over) cannot be killed.
        if retirement == .killed, let pid { try? System.signal(pid, SIGKILL, subject: "the sentinel \(pid)") }
        System.release(link)
        if link == sentinelLink { forgetSentinel() }
        if let pid { retiredSentinels.append(pid) }
        reapRetiredSentinels()
    }

    /// `waitpid(WNOHANG)` for each sentinel retired: those ended are forgotten. Only by pid,
    /// as the scripts are (``ChildProcesses``), so neither is taken for the other.
    func reapRetiredSentinels() {
        retiredSentinels.removeAll { pid in
            do throws(DaemonError) {
                return try System.waitIfEnded(pid, subject: "the sentinel \(pid)") != nil
            } catch {
                // No longer ours to wait for: gone all the same.
                return true
            }
        }
    }

    /// Writes `reports` to a sentinel's pipe at once; the errno if that failed (`EAGAIN`: the
    /// pipe is full; `EPIPE`: no reader). The lines are far below `PIPE_BUF`, so a write is
    /// whole or nothing.
    private static func tell(_ reports: [SupervisorStateMachine.Report], on link: FileDescriptor) -> Errno? {
        do throws(DaemonError) {
            try System.write(Array(reports.map(\.line).joined().utf8), to: link, subject: "the sentinel")
            return nil
        } catch {
            if case .system(_, _, let code) = error { return code }
            return .ioError
        }
    }
}

/// Why no fresh sentinel could be had.
struct SentinelStartFailure: Error {
    let reason: String
}
