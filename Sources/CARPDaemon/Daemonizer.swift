import Glibc

/// Detaches from the terminal the classic way, as ucarp's `dodaemonize`: fork, setsid, fork
/// again (never a session leader, never regains a terminal), chdir to `/`, standard
/// descriptors onto `/dev/null`.
///
/// Call it after everything that can fail at start-up has been opened, so that errors still
/// reach the terminal and the exit status of the command that started us.
enum Daemonizer {
    static func detach() throws(DaemonError) {
        try forkAndExitParent()
        guard setsid() >= 0 else { throw DaemonError.lastError("setsid", "the daemon") }
        try forkAndExitParent()
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { throw DaemonError.lastError("open", "/dev/null") }
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            _ = dup2(null, descriptor)
        }
        if null > STDERR_FILENO { close(null) }
    }

    private static func forkAndExitParent() throws(DaemonError) {
        let child = fork()
        guard child >= 0 else { throw DaemonError.lastError("fork", "the daemon") }
        if child > 0 { _exit(0) }
    }
}
