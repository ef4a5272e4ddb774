import CARPCore
import CSystemShims
import Glibc
import Logging
import UCarpConfiguration

/// Runs `--check` every interval with `/bin/sh -c`, in its own process group, never blocking
/// the poll loop: the check is reaped on SIGCHLD and killed (the whole group) at its timeout,
/// which counts as a failure. Results go through a ``HealthMonitor`` (fall/rise).
final class HealthChecker {
    let command: String
    private let interval: MonotonicDuration
    private let timeout: MonotonicDuration
    private var monitor: HealthMonitor
    private let logger: Logger
    private var running: (pid: pid_t, deadline: MonotonicInstant, timedOut: Bool)?
    private var nextStart: MonotonicInstant

    init(settings: Settings, logger: Logger, now: MonotonicInstant) {
        command = settings.check ?? "true"
        interval = settings.checkInterval
        timeout = settings.checkTimeout ?? settings.checkInterval
        monitor = HealthMonitor(fall: settings.checkFall, rise: settings.checkRise)
        self.logger = logger
        nextStart = now
    }

    /// When ``tick(at:)`` has work: the next start, or the running check's timeout.
    var nextDeadline: MonotonicInstant? {
        if let running { return running.timedOut ? nil : running.deadline }
        return nextStart
    }

    /// Starts a due check, or kills one past its timeout; returns a new verdict if any.
    func tick(at now: MonotonicInstant) -> Bool? {
        if let current = running {
            guard !current.timedOut, now >= current.deadline else { return nil }
            running?.timedOut = true
            kill(-current.pid, SIGKILL)
            logger.warning("Health check [\(command)] timed out: killed")
            return record(passed: false, detail: "timed out")
        }
        guard now >= nextStart else { return nil }
        nextStart = now + interval
        var pid: pid_t = 0
        let result = withCStrings(["/bin/sh", "-c", command]) { argv in
            swiftcarp_spawn(&pid, "/bin/sh", argv, environ)
        }
        guard result == 0 else {
            logger.error("Unable to run the health check: \(String(cString: strerror(result)))")
            return record(passed: false, detail: "could not start")
        }
        running = (pid, now + timeout, false)
        return nil
    }

    /// Collects a finished check (call on SIGCHLD); returns a new verdict if any.
    func reap() -> Bool? {
        guard let current = running else { return nil }
        var status: CInt = 0
        guard waitpid(current.pid, &status, WNOHANG) == current.pid else { return nil }
        running = nil
        // A check killed at its timeout was already counted.
        guard !current.timedOut else { return nil }
        let exitStatus = (status >> 8) & 0xFF
        let signal = status & 0x7F
        let passed = signal == 0 && exitStatus == 0
        return record(passed: passed, detail: signal != 0 ? "killed by signal \(signal)" : "exit status \(exitStatus)")
    }

    /// Kills a running check (at exit).
    func stop() {
        guard let current = running else { return }
        kill(-current.pid, SIGKILL)
        var status: CInt = 0
        waitpid(current.pid, &status, 0)
        running = nil
    }

    private func record(passed: Bool, detail: String) -> Bool? {
        if !passed { logger.debug("Health check [\(command)] failed: \(detail)") }
        let verdict = monitor.record(passed: passed)
        switch verdict {
        case false?:
            logger.warning("Health check [\(command)] failed (\(detail)): the service is unhealthy")
        case true?:
            logger.info("Health check [\(command)] passed: the service is healthy")
        case nil:
            break
        }
        return verdict
    }
}
