import Glibc

/// Detaches from the terminal the classic way, as ucarp's `dodaemonize`: fork, setsid, fork
/// again (never a session leader, never regains a terminal), chdir to `/`, standard input and
/// output onto `/dev/null`.
///
/// Unlike ucarp, the command that started us does not exit at the first fork: it stays until
/// the daemon has finished its start-up (``finishStartup()``, after the pid file is written),
/// copying to its own standard error what the daemon logs as errors meanwhile. It then exits
/// 0, or 2 (``CARPDaemon/ExitStatus/startupFailed``) if the daemon ended first. So a failure
/// after detaching still reaches the terminal and the exit status, and an init system that
/// reads the pid file when the starting command exits (systemd's `Type=forking`) finds it.
///
/// Call it after everything that can fail before detaching has been opened.
enum Daemonizer {
    /// The byte the daemon writes to the starting command when start-up is finished; log
    /// lines never contain it.
    private static let ready: UInt8 = 0

    static func detach() throws(DaemonError) {
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw DaemonError.lastError("pipe", "the daemon") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let child = fork()
        guard child >= 0 else { throw DaemonError.lastError("fork", "the daemon") }
        if child > 0 {
            close(ends[1])
            relayStartup(from: ends[0], firstChild: child)
        }
        close(ends[0])
        guard setsid() >= 0 else { throw DaemonError.lastError("setsid", "the daemon") }
        let daemon = fork()
        guard daemon >= 0 else { throw DaemonError.lastError("fork", "the daemon") }
        if daemon > 0 { _exit(0) }
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { throw DaemonError.lastError("open", "/dev/null") }
        _ = dup2(null, STDIN_FILENO)
        _ = dup2(null, STDOUT_FILENO)
        _ = dup2(ends[1], STDERR_FILENO)
        close(ends[1])
        if null > STDERR_FILENO { close(null) }
        // Standard error is the pipe until start-up ends, and the starting command may be
        // gone by then (killed from its terminal): a write must fail, not kill the daemon.
        // Scripts and checks get every signal back at its default (swiftcarp_spawn).
        signal(SIGPIPE, SIG_IGN)
    }

    /// In the daemon: tells the starting command that start-up is finished and points
    /// standard error at `/dev/null`.
    static func finishStartup() {
        var byte = ready
        _ = write(STDERR_FILENO, &byte, 1)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            _ = dup2(null, STDERR_FILENO)
            if null != STDERR_FILENO { close(null) }
        }
    }

    /// In the starting command: copies what the daemon writes to standard error until it
    /// reports its start-up finished (exit 0) or the pipe closes without that (exit 2).
    private static func relayStartup(from descriptor: CInt, firstChild: pid_t) -> Never {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var finished = false
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            var text = buffer[..<count]
            if let marker = text.firstIndex(of: ready) {
                finished = true
                text = text[..<marker]
            }
            _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if finished { break }
        }
        // The first child exits as soon as it has forked the daemon.
        var status: CInt = 0
        _ = waitpid(firstChild, &status, 0)
        _exit(finished ? 0 : CARPDaemon.ExitStatus.startupFailed.rawValue)
    }
}
