import CARPInstance
import Glibc
import SystemPackage

/// Detaches from the terminal the classic way, as ucarp's `dodaemonize`: fork, setsid, fork
/// again (never a session leader, never regains a terminal), chdir to `/`, standard input and
/// output onto `/dev/null`.
///
/// Unlike ucarp, the command that started us does not exit at the first fork: it stays until
/// the daemon has finished its start-up (``finishStartup()``, after the pid file is written),
/// copying to its own standard error what the daemon logs as errors meanwhile. It then exits
/// 0, or 2 (``ExitStatus/startupFailed``) if the daemon ended first. So a failure
/// after detaching still reaches the terminal and the exit status, and an init system that
/// reads the pid file when the starting command exits (systemd's `Type=forking`) finds it.
///
/// Call it after everything that can fail before detaching has been opened.
enum Daemonizer {
    /// The byte the daemon writes to the starting command when start-up is finished; log
    /// lines never contain it.
    private static let ready: UInt8 = 0

    static func detach() throws(DaemonError) {
        let startup = try System.pipe(subject: "the daemon")
        let child = try System.fork(subject: "the daemon")
        if child > 0 {
            // Only the daemon writes to the pipe: the relay must see its end when the daemon exits.
            System.release(startup.writeEnd)
            relayStartup(from: startup.readEnd, firstChild: child)
        }
        System.release(startup.readEnd)
        try System.createSession(subject: "the daemon")
        let daemon = try System.fork(subject: "the daemon")
        if daemon > 0 { _exit(0) }
        try System.changeDirectory(to: "/")
        // Inherited by scripts and checks: not close-on-exec.
        let null = try System.open("/dev/null", .readWrite)
        try System.duplicate(null, as: .standardInput, subject: "standard input")
        try System.duplicate(null, as: .standardOutput, subject: "standard output")
        try System.duplicate(startup.writeEnd, as: .standardError, subject: "standard error")
        for descriptor in [startup.writeEnd, null] where descriptor.rawValue > STDERR_FILENO {
            System.release(descriptor)
        }
        // Standard error is the pipe until start-up ends, and the starting command may be
        // gone by then (killed from its terminal): a write must fail, not kill the daemon.
        // Scripts and checks get every signal back at its default (swiftcarp_spawn).
        signal(SIGPIPE, SIG_IGN)
    }

    /// In the daemon: tells the starting command that start-up is finished and points
    /// standard error at `/dev/null` (standard input is `/dev/null` since ``detach()``).
    ///
    /// Both are deliberately best effort: the marker cannot be written only when the starting
    /// command is gone, with no one left to tell, and `dup2` of two descriptors ``detach()``
    /// set up fails only on a bug, which would leave standard error on that dead pipe.
    static func finishStartup() {
        try? System.write([ready], to: .standardError, subject: "the starting command")
        try? System.duplicate(.standardInput, as: .standardError, subject: "standard error")
    }

    /// In the starting command: copies what the daemon writes to standard error until it
    /// reports its start-up finished (exit 0) or the pipe closes without that (exit 2).
    private static func relayStartup(from pipe: FileDescriptor, firstChild: pid_t) -> Never {
        var finished = false
        // A read error ends the relay as the end of the pipe does: the daemon never reported.
        while !finished, let chunk = try? System.read(pipe, upTo: 4096, subject: "the daemon"), !chunk.isEmpty {
            var text = chunk[...]
            if let marker = text.firstIndex(of: ready) {
                finished = true
                text = text[..<marker]
            }
            // Deliberately best effort: the terminal may be gone; the exit status still tells.
            try? System.write(text, to: .standardError, subject: "standard error")
        }
        // The first child exits as soon as it has forked the daemon. Waiting only reaps it:
        // the exit status is what the pipe said, whatever the wait returns.
        _ = try? System.wait(for: firstChild, subject: "the first child")
        _exit(finished ? 0 : ExitStatus.startupFailed.rawValue)
    }
}
