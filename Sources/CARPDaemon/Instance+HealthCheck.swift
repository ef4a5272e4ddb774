import CARPCore
import SystemPackage
import UCarpConfiguration

/// `--check`: run every interval with `/bin/sh -c`, in its own process group, never blocking
/// the loop. A check is killed (the whole group) at its timeout, which counts as a failure;
/// results go through a ``HealthMonitor`` (fall/rise) and its verdicts to the election.
extension Instance {
    struct HealthCheck {
        struct Running: Equatable {
            var id: ChildSupervisor.ID
            var deadline: MonotonicInstant
            var timedOut = false
        }

        let command: String
        let interval: MonotonicDuration
        let timeout: MonotonicDuration
        var monitor: HealthMonitor
        var running: Running?
        /// When the next check starts; nil before the instance started.
        var nextStart: MonotonicInstant?

        init(command: String, settings: Settings) {
            self.command = command
            interval = settings.checkInterval
            timeout = settings.checkTimeout ?? settings.checkInterval
            monitor = HealthMonitor(fall: settings.checkFall, rise: settings.checkRise)
        }

        /// The next start, or the running check's timeout.
        var nextDeadline: MonotonicInstant? {
            if let running { return running.timedOut ? nil : running.deadline }
            return nextStart
        }

        mutating func schedule(at now: MonotonicInstant) {
            nextStart = now
        }

        /// `/bin/sh -c <command>` with the daemon's environment.
        var spawnCommand: ChildSupervisor.Command {
            .init(path: "/bin/sh", arguments: ["-c", command])
        }
    }

    /// Starts a due check, or kills one past its timeout.
    mutating func checkHealth(at now: MonotonicInstant) -> [Action] {
        guard var check = health else { return [] }
        defer { health = check }
        if let running = check.running {
            guard !running.timedOut, now >= running.deadline else { return [] }
            check.running?.timedOut = true
            let actions: [Action] = [
                .kill(running.id), .log(.warning, "Health check [\(check.command)] timed out: killed"),
            ]
            return actions + record(&check, passed: false, detail: "timed out", at: now)
        }
        guard let nextStart = check.nextStart, now >= nextStart else { return [] }
        check.nextStart = now + check.interval
        let id = newChildID()
        check.running = .init(id: id, deadline: now + check.timeout)
        return [.spawn(id, check.spawnCommand)]
    }

    mutating func healthCheckEnded(status: ChildSupervisor.Status, at now: MonotonicInstant) -> [Action] {
        guard var check = health, let running = check.running else { return [] }
        defer { health = check }
        check.running = nil
        // A check killed at its timeout was already counted; one ending while leaving is not.
        guard !running.timedOut, phase == .running else { return [] }
        let detail: String
        switch status {
        case .exited(let code): detail = "exit status \(code)"
        case .killed(let signal): detail = "killed by signal \(signal)"
        case .unknown: detail = "exit status unknown"
        }
        return record(&check, passed: status == .exited(0), detail: detail, at: now)
    }

    mutating func healthCheckFailedToStart(reason: Errno, at now: MonotonicInstant) -> [Action] {
        guard var check = health, check.running != nil else { return [] }
        defer { health = check }
        check.running = nil
        return [.log(.error, "Unable to run the health check: \(reason.description)")]
            + record(&check, passed: false, detail: "could not start", at: now)
    }

    /// One result into the monitor; a new verdict goes to the election.
    private mutating func record(
        _ check: inout HealthCheck, passed: Bool, detail: String, at now: MonotonicInstant
    ) -> [Action] {
        var actions = passed ? [] : debug("Health check [\(check.command)] failed: \(detail)")
        if passed { statistics.healthChecksPassed += 1 } else { statistics.healthChecksFailed += 1 }
        switch check.monitor.record(passed: passed) {
        case false?:
            actions.append(
                .log(.warning, "Health check [\(check.command)] failed (\(detail)): the service is unhealthy"))
            actions += healthChanged(healthy: false, at: now)
        case true?:
            actions.append(.log(.info, "Health check [\(check.command)] passed: the service is healthy"))
            actions += healthChanged(healthy: true, at: now)
        case nil:
            break
        }
        return actions
    }
}
