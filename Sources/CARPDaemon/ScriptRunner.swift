import CSystemShims
import Glibc
import Logging
import SystemPackage

/// Runs the up and down scripts of one instance: one at a time, in the order asked, never
/// blocking the caller. ucarp waits for each script, so a slow script stops its
/// advertisements; here the poll loop goes on and reaps the script on SIGCHLD.
final class ScriptRunner {
    struct Job {
        var path: String
        /// Arguments after the script's own name: `<interface> <vip> [<xparam>]`.
        var arguments: [String]
    }

    private let logger: Logger
    private var queue: [Job] = []
    private var running: (pid: pid_t, job: Job)?

    init(logger: Logger) {
        self.logger = logger
    }

    var isIdle: Bool { running == nil && queue.isEmpty }

    func enqueue(_ job: Job) {
        queue.append(job)
        startNextIfIdle()
    }

    /// Collects finished children (call on SIGCHLD) and starts the next queued script.
    func reap() {
        while true {
            var status: CInt = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { break }
            finished(pid: pid, status: status)
        }
        startNextIfIdle()
    }

    /// Blocks until the running and queued scripts have all finished (for shutdown).
    func waitForAll() {
        while let (pid, _) = running {
            var status: CInt = 0
            let result = waitpid(pid, &status, 0)
            if result == pid {
                finished(pid: pid, status: status)
            } else if result < 0 && errno != EINTR {
                running = nil
            }
            startNextIfIdle()
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
                swiftcarp_spawn(&pid, job.path, argv, environ)
            }
            if result == 0 {
                running = (pid, job)
            } else {
                logger.error("Unable to exec \(commandLine(job)): \(Errno(rawValue: result).description)")
            }
        }
    }

    private func commandLine(_ job: Job) -> String {
        ([job.path] + job.arguments).joined(separator: " ")
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result)
    -> Result
{
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
