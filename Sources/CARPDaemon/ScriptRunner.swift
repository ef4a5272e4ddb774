import CARPCore
import CSystemShims
import Glibc
import Logging
import SystemPackage

/// Runs the up and down scripts of one instance: one at a time, in the order asked, never
/// blocking the caller. ucarp waits for each script, so a slow script stops its
/// advertisements; here the poll loop goes on and reaps the script on SIGCHLD.
///
/// A script still running after the timeout has its process group killed, so one hung script
/// cannot hold up the transitions queued behind it forever.
final class ScriptRunner {
    struct Job {
        var path: String
        /// Arguments after the script's own name: `<interface> <vip> [<xparam>]`.
        var arguments: [String]
        /// Variables added to (or replacing those of) the daemon's environment.
        var environment: [(String, String)] = []
    }

    private struct Running {
        var pid: pid_t
        var job: Job
        var deadline: MonotonicInstant?
        var killed = false
    }

    private let logger: Logger
    private let timeout: MonotonicDuration?
    private var queue: [Job] = []
    private var running: Running?

    init(logger: Logger, timeout: MonotonicDuration? = nil) {
        self.logger = logger
        self.timeout = timeout
    }

    var isIdle: Bool { running == nil && queue.isEmpty }

    /// When the running script times out, if it has not been killed yet.
    var nextDeadline: MonotonicInstant? {
        guard let running, !running.killed else { return nil }
        return running.deadline
    }

    func enqueue(_ job: Job) {
        queue.append(job)
        startNextIfIdle()
    }

    /// Collects the running script if it has finished (call on SIGCHLD) and starts the next
    /// queued one. Only our own child is waited for, never any other.
    func reap() {
        if let current = running {
            var status: CInt = 0
            let result = waitpid(current.pid, &status, WNOHANG)
            if result == current.pid {
                finished(pid: current.pid, status: status)
            } else if result < 0 && errno == ECHILD {
                // Someone else reaped it (never in the daemon): it is gone all the same.
                logger.warning("Script [\(commandLine(current.job))] ended, its exit status unknown")
                running = nil
            }
        }
        startNextIfIdle()
    }

    /// Kills the running script's process group if it has outlived the timeout.
    func enforceTimeout(at now: MonotonicInstant) {
        guard let current = running, !current.killed, let deadline = current.deadline, now >= deadline else { return }
        running?.killed = true
        let seconds = Double(timeout?.nanoseconds ?? 0) / 1e9
        logger.error("Script [\(commandLine(current.job))] still running after \(seconds)s: killing its process group")
        kill(-current.pid, SIGKILL)
    }

    /// Blocks until the running and queued scripts have all finished or timed out (for shutdown).
    func waitForAll() {
        while running != nil {
            reap()
            guard running != nil else { break }
            enforceTimeout(at: MonotonicClock.now())
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
    }

    private func finished(pid: pid_t, status: CInt) {
        guard let current = running, current.pid == pid else { return }
        running = nil
        let exitStatus = (status >> 8) & 0xFF
        let signal = status & 0x7F
        if signal != 0 {
            logger.warning("Script [\(commandLine(current.job))] was killed by signal \(signal)")
        } else if exitStatus != 0 {
            logger.warning("Script [\(commandLine(current.job))] exited with status \(exitStatus)")
        } else {
            logger.debug("Script [\(commandLine(current.job))] finished")
        }
    }

    private func startNextIfIdle() {
        while running == nil, !queue.isEmpty {
            let job = queue.removeFirst()
            logger.warning("Spawning [\(commandLine(job))]")
            var pid: pid_t = 0
            let result = withCStrings([job.path] + job.arguments) { argv in
                withCStrings(Self.environment(adding: job.environment)) { envp in
                    swiftcarp_spawn(&pid, job.path, argv, envp)
                }
            }
            if result == 0 {
                running = Running(pid: pid, job: job, deadline: timeout.map { MonotonicClock.now() + $0 })
            } else {
                logger.error("Unable to exec \(commandLine(job)): \(Errno(rawValue: result).description)")
            }
        }
    }

    /// The daemon's environment with `additions` set.
    static func environment(adding additions: [(String, String)]) -> [String] {
        let replaced = Set(additions.map(\.0))
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            let name = String(text.prefix { $0 != "=" })
            if !replaced.contains(name) { entries.append(text) }
            cursor += 1
        }
        return entries + additions.map { "\($0.0)=\($0.1)" }
    }

    private func commandLine(_ job: Job) -> String {
        ([job.path] + job.arguments).joined(separator: " ")
    }
}
