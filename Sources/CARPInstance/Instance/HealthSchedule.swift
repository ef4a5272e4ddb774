import CARPCore
import Logging
import SystemPackage
import UCarpConfiguration

/// `--check`: run every interval with `/bin/sh -c`, in its own process group, never blocking
/// the loop. A check is killed (the whole group) at its timeout, which counts as a failure;
/// results go through a ``HealthMonitor`` (fall/rise), whose verdicts the instance hands to
/// the election.
struct HealthSchedule: Equatable {
    struct Running: Equatable {
        var id: Child.ID
        var deadline: MonotonicInstant
        var timedOut = false
    }

    enum Action: Equatable {
        case log(Logger.Level, String)
        case spawn(Child.ID, Child.Command)
        case kill(Child.ID)
        /// One check's result, for the counters.
        case checked(passed: Bool)
        /// The fall/rise rule gave a new verdict (or the first one).
        case verdict(healthy: Bool)
    }

    let command: String
    let interval: MonotonicDuration
    let timeout: MonotonicDuration
    /// `--debug`: a failed check is logged even when the verdict does not change.
    let debug: Bool
    private(set) var monitor: HealthMonitor
    private(set) var running: Running?
    /// When the next check starts; nil before the instance started, and once it stopped.
    private(set) var nextStart: MonotonicInstant?

    init(command: String, settings: Settings) {
        self.command = command
        interval = settings.checkInterval
        timeout = settings.checkTimeout ?? settings.checkInterval
        debug = settings.debug
        monitor = HealthMonitor(fall: settings.checkFall, rise: settings.checkRise)
    }

    /// The next start, or the running check's timeout.
    var nextDeadline: MonotonicInstant? {
        if let running { return running.timedOut ? nil : running.deadline }
        return nextStart
    }

    /// Whether `id` is the running check.
    func runs(_ id: Child.ID) -> Bool { running?.id == id }

    /// `/bin/sh -c <command>` with the daemon's environment.
    var spawnCommand: Child.Command {
        .init(path: "/bin/sh", arguments: ["-c", command])
    }

    // MARK: Events

    /// The instance started: the first check is due at once.
    mutating func started(at now: MonotonicInstant) {
        nextStart = now
    }

    /// Starts a due check, or kills one past its timeout.
    mutating func timePassed(numbering: inout Child.Numbering, at now: MonotonicInstant) -> [Action] {
        if let running {
            guard !running.timedOut, now >= running.deadline else { return [] }
            self.running?.timedOut = true
            let actions: [Action] = [.kill(running.id), .log(.warning, "Health check [\(command)] timed out: killed")]
            return actions + record(passed: false, detail: "timed out")
        }
        guard let nextStart, now >= nextStart else { return [] }
        self.nextStart = now + interval
        let id = numbering.next()
        running = .init(id: id, deadline: now + timeout)
        return [.spawn(id, spawnCommand)]
    }

    /// The running check ended with `status`.
    mutating func ended(status: Child.Status) -> [Action] {
        guard let running else { return [] }
        self.running = nil
        // A check killed at its timeout was already counted.
        guard !running.timedOut else { return [] }
        let detail: String
        switch status {
        case .exited(let code): detail = "exit status \(code)"
        case .killed(let signal): detail = "killed by signal \(signal)"
        case .unknown: detail = "exit status unknown"
        }
        return record(passed: status == .exited(0), detail: detail)
    }

    /// The check could not be started: `reason` is the error of `posix_spawn`.
    mutating func failedToStart(reason: Errno) -> [Action] {
        guard running != nil else { return [] }
        running = nil
        return [.log(.error, "Unable to run the health check: \(reason.description)")]
            + record(passed: false, detail: "could not start")
    }

    /// The instance is leaving: no more checks; a running one is to be killed (unless its
    /// timeout killed it already), its result not counted. Returns the check to kill, if any.
    mutating func stop() -> Child.ID? {
        nextStart = nil
        guard let running else { return nil }
        self.running = nil
        return running.timedOut ? nil : running.id
    }

    /// Takes on a predecessor's schedule (`ucarp --reload`): the verdict and streak, the check
    /// running (a child that survived `execve`) and the next start; a new `--check-interval`
    /// applies from the start after.
    mutating func resume(healthy: Bool?, streak: Int, running: Running?, nextStart: MonotonicInstant?) {
        monitor = HealthMonitor(fall: monitor.fall, rise: monitor.rise, healthy: healthy, streak: streak)
        self.running = running
        self.nextStart = nextStart
    }

    // MARK: Internals

    /// One result into the monitor; a new verdict for the election.
    private mutating func record(passed: Bool, detail: String) -> [Action] {
        var actions: [Action] =
            passed || !debug ? [] : [.log(.debug, "Health check [\(command)] failed: \(detail)")]
        actions.append(.checked(passed: passed))
        switch monitor.record(passed: passed) {
        case false?:
            actions.append(.log(.warning, "Health check [\(command)] failed (\(detail)): the service is unhealthy"))
            actions.append(.verdict(healthy: false))
        case true?:
            actions.append(.log(.info, "Health check [\(command)] passed: the service is healthy"))
            actions.append(.verdict(healthy: true))
        case nil:
            break
        }
        return actions
    }
}
