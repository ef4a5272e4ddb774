extension ChildSupervisor {
    /// How a child ended, decoded from `waitpid`'s status.
    enum Status: Equatable, Sendable {
        /// `exit(code)`: 0 is success.
        case exited(Int32)
        /// Ended by this signal (a timeout's SIGKILL among others).
        case killed(signal: Int32)
        /// Someone else collected it (`ECHILD`; never in the daemon): gone, nobody knows how.
        case unknown

        /// The `WIFSIGNALED`/`WTERMSIG`/`WEXITSTATUS` reading of a status from `waitpid`
        /// without `WUNTRACED`, so a child is either exited or killed.
        init(waitStatus status: Int32) {
            let signal = status & 0x7F
            self = signal != 0 ? .killed(signal: signal) : .exited((status >> 8) & 0xFF)
        }
    }
}
