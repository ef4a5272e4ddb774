import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// The daemon's system calls, in one place: each is retried while it fails with `EINTR`
/// (`close` is not, the descriptor being gone either way, nor `poll`, whose caller must
/// compute its timeout again), and any other failure throws
/// ``DaemonError/system(call:subject:errno:)`` naming the call, what it acted on and errno,
/// as swift-nio's `Posix` namespace does. swift-system's `FileDescriptor` makes the calls it
/// has (it retries `EINTR` itself); the others go through ``call(_:on:_:)``.
enum System {
    /// Runs `body`, a C call that returns -1 and sets errno on failure, again while it fails
    /// with `EINTR`; any other failure throws `.system(call: call, subject: subject, errno:)`.
    static func call<Result: FixedWidthInteger & SignedInteger>(
        _ call: String, on subject: String, _ body: () -> Result
    ) throws(DaemonError) -> Result {
        while true {
            let result = body()
            guard result == -1 else { return result }
            let code = Errno(rawValue: Glibc.errno)
            guard code == .interrupted else { throw .system(call: call, subject: subject, errno: code) }
        }
    }

    /// Runs `body`, a swift-system call (which retries `EINTR` itself), and names the call
    /// and its subject in the error.
    static func calling<Result>(
        _ call: String, on subject: String, _ body: () throws -> Result
    ) throws(DaemonError) -> Result {
        do {
            return try body()
        } catch let code as Errno {
            throw .system(call: call, subject: subject, errno: code)
        } catch {
            preconditionFailure("swift-system's \(call) threw \(error), which is not an Errno")
        }
    }

    // MARK: Files and descriptors

    /// `open`: the file at `path`. Pass `.closeOnExec` unless the programs we start must
    /// inherit it.
    static func open(
        _ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions? = nil
    ) throws(DaemonError) -> FileDescriptor {
        try calling("open", on: path.string) {
            try FileDescriptor.open(path, mode, options: options, permissions: permissions)
        }
    }

    /// `close`, for a descriptor whose data is in the file already (or was never ours to
    /// write): a file we wrote and must know is safe goes through ``close(_:subject:)``.
    /// Linux releases the descriptor even when `close` reports an error, so there is nothing
    /// left to do about one: ignoring it is deliberate.
    static func release(_ descriptor: FileDescriptor) {
        try? descriptor.close()
    }

    /// `close`, which may report a deferred write error (`EIO`, `ENOSPC` on network file
    /// systems). Never retried: the descriptor is gone whatever it returns.
    static func close(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) {
        try calling("close", on: subject) { try descriptor.close() }
    }

    /// `read`: at most `count` bytes; empty at the end of the file.
    static func read(_ descriptor: FileDescriptor, upTo count: Int, subject: String) throws(DaemonError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try calling("read", on: subject) {
            try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
        }
        return Array(buffer.prefix(got))
    }

    /// `write`, called again for whatever a short write left, until all of `bytes` is written
    /// (swift-system's `writeAll`).
    static func write<Bytes: Sequence<UInt8>>(
        _ bytes: Bytes, to descriptor: FileDescriptor, subject: String
    ) throws(DaemonError) {
        _ = try calling("write", on: subject) { try descriptor.writeAll(bytes) }
    }

    /// `lseek(offset, SEEK_SET)`.
    static func seek(_ descriptor: FileDescriptor, to offset: Int64, subject: String) throws(DaemonError) {
        _ = try calling("lseek", on: subject) { try descriptor.seek(offset: offset, from: .start) }
    }

    /// `ftruncate`.
    static func truncate(_ descriptor: FileDescriptor, to size: Int, subject: String) throws(DaemonError) {
        try calling("ftruncate", on: subject) { try descriptor.resize(to: Int64(size)) }
    }

    /// `fsync`: the file's data and metadata on stable storage.
    static func sync(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) {
        _ = try call("fsync", on: subject) { fsync(descriptor.rawValue) }
    }

    /// `rename`: replaces `destination` with `source` atomically.
    static func rename(_ source: FilePath, to destination: FilePath) throws(DaemonError) {
        _ = try call("rename", on: destination.string) {
            source.withPlatformString { source in
                destination.withPlatformString { destination in Glibc.rename(source, destination) }
            }
        }
    }

    /// `unlink`.
    static func unlink(_ path: FilePath) throws(DaemonError) {
        _ = try call("unlink", on: path.string) { path.withPlatformString { Glibc.unlink($0) } }
    }

    /// `flock(LOCK_EX | LOCK_NB)`: whether the lock was taken; false when another open file
    /// holds it (`EWOULDBLOCK`).
    static func tryLock(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) -> Bool {
        do throws(DaemonError) {
            _ = try call("flock", on: subject) { flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }
            return true
        } catch {
            guard case .system(_, _, .wouldBlock) = error else { throw error }
            return false
        }
    }

    /// `pipe`, both ends then close-on-exec (`fcntl`).
    static func pipe(
        subject: String
    ) throws(DaemonError) -> (readEnd: FileDescriptor, writeEnd: FileDescriptor) {
        let ends = try calling("pipe", on: subject) { try FileDescriptor.pipe() }
        do throws(DaemonError) {
            for end in [ends.readEnd, ends.writeEnd] { try setCloseOnExec(end, subject: subject) }
        } catch {
            release(ends.readEnd)
            release(ends.writeEnd)
            throw error
        }
        return ends
    }

    /// `dup2`: makes `target` a copy of `descriptor` that the programs we start inherit. When
    /// they are already the same descriptor, `dup2` would change nothing, so its close-on-exec
    /// flag is cleared instead (`fcntl(F_SETFD, 0)`).
    static func duplicate(
        _ descriptor: FileDescriptor, as target: FileDescriptor, subject: String
    ) throws(DaemonError) {
        if descriptor == target {
            _ = try call("fcntl(F_SETFD)", on: subject) { fcntl(target.rawValue, F_SETFD, 0) }
        } else {
            _ = try calling("dup2", on: subject) { try descriptor.duplicate(as: target) }
        }
    }

    /// `fcntl(F_SETFD, FD_CLOEXEC)`: the programs we start do not inherit the descriptor.
    static func setCloseOnExec(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) {
        _ = try call("fcntl(F_SETFD, FD_CLOEXEC)", on: subject) { fcntl(descriptor.rawValue, F_SETFD, FD_CLOEXEC) }
    }

    /// `fcntl(F_SETFL, flags | O_NONBLOCK)`: a write that would block fails with `EAGAIN`.
    static func setNonBlocking(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) {
        let flags = try call("fcntl(F_GETFL)", on: subject) { fcntl(descriptor.rawValue, F_GETFL) }
        _ = try call("fcntl(F_SETFL, O_NONBLOCK)", on: subject) {
            fcntl(descriptor.rawValue, F_SETFL, flags | O_NONBLOCK)
        }
    }

    // MARK: Processes

    /// `fork`: the child's pid in the parent, 0 in the child.
    static func fork(subject: String) throws(DaemonError) -> pid_t {
        try call("fork", on: subject) { Glibc.fork() }
    }

    /// `setpgid(pid, pid)`: `pid` (0: this process) leads a process group of its own.
    static func leadProcessGroup(_ pid: pid_t, subject: String) throws(DaemonError) {
        _ = try call("setpgid", on: subject) { setpgid(pid, pid) }
    }

    /// `prctl(PR_SET_CHILD_SUBREAPER)`: the orphans of our descendants become our children.
    static func becomeSubreaper() throws(DaemonError) {
        _ = try call("prctl(PR_SET_CHILD_SUBREAPER)", on: "the supervisor") { swiftcarp_become_subreaper() }
    }

    /// `waitpid(-1, WNOHANG)`: a child that ended and its raw wait status, nil when none has
    /// (or there are no children).
    static func reapAny() -> (pid: pid_t, status: CInt)? {
        var status: CInt = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { return (pid, status) }
            if pid < 0 && Glibc.errno == EINTR { continue }
            return nil
        }
    }

    /// `setsid`: a new session, without a controlling terminal, led by this process.
    static func createSession(subject: String) throws(DaemonError) {
        _ = try call("setsid", on: subject) { setsid() }
    }

    /// `chdir`.
    static func changeDirectory(to path: FilePath) throws(DaemonError) {
        _ = try call("chdir", on: path.string) { path.withPlatformString { chdir($0) } }
    }

    /// `waitpid(pid, 0)`: blocks until the child `pid` ends; its raw wait status.
    static func wait(for pid: pid_t, subject: String) throws(DaemonError) -> CInt {
        var status: CInt = 0
        _ = try call("waitpid", on: subject) { waitpid(pid, &status, 0) }
        return status
    }

    /// `posix_spawn` through `swiftcarp_spawn`: `path` with `argv` (its own name first) and
    /// `environment`, in a new process group, every signal unblocked and at its default
    /// disposition. Throws the spawn's errno (`posix_spawn` returns it rather than setting it).
    static func spawn(_ path: String, argv: [String], environment: [String]) throws(Errno) -> pid_t {
        var pid: pid_t = 0
        let result = withCStrings(argv) { argv in
            withCStrings(environment) { envp in swiftcarp_spawn(&pid, path, argv, envp) }
        }
        guard result == 0 else { throw Errno(rawValue: result) }
        return pid
    }

    /// `posix_spawn` through `swiftcarp_spawn_sentinel`: `/proc/self/exe` (the program this
    /// process runs, whatever is on disk now) with `argv` and our environment, `pipe` its
    /// descriptor 3, the signals of `held` blocked. Throws the spawn's errno.
    static func spawnSentinel(argv: [[UInt8]], pipe: FileDescriptor, held: sigset_t) throws(Errno) -> pid_t {
        var pid: pid_t = 0
        var held = held
        let result = withArgv(argv) { argv in
            swiftcarp_spawn_sentinel(&pid, "/proc/self/exe", argv, environ, pipe.rawValue, &held)
        }
        guard result == 0 else { throw Errno(rawValue: result) }
        return pid
    }

    /// `waitpid(pid, WNOHANG)`: the raw wait status once the child `pid` has ended, nil while
    /// it runs.
    static func waitIfEnded(_ pid: pid_t, subject: String) throws(DaemonError) -> CInt? {
        var status: CInt = 0
        let result = try call("waitpid", on: subject) { waitpid(pid, &status, WNOHANG) }
        return result == pid ? status : nil
    }

    /// `kill(pid, signal)`: the process `pid`.
    static func signal(_ pid: pid_t, _ signal: CInt, subject: String) throws(DaemonError) {
        _ = try call("kill", on: subject) { Glibc.kill(pid, signal) }
    }

    /// `kill(-pid, signal)`: every process of the group `pid`.
    static func signalGroup(_ pid: pid_t, _ signal: CInt, subject: String) throws(DaemonError) {
        _ = try call("kill", on: subject) { Glibc.kill(-pid, signal) }
    }

    /// `kill(pid, 0)`: whether the process `pid` exists, also when it is not ours to signal
    /// (`EPERM`); false once it is gone (`ESRCH`).
    static func processExists(_ pid: pid_t) throws(DaemonError) -> Bool {
        do throws(DaemonError) {
            try signal(pid, 0, subject: "pid \(pid)")
            return true
        } catch {
            switch error {
            case .system(_, _, .notPermitted): return true
            case .system(_, _, .noSuchProcess): return false
            default: throw error
            }
        }
    }

    /// `gethostname`: this host's name.
    static func hostName() throws(DaemonError) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        // One byte kept back: a name cut to the buffer is not terminated.
        let length = buffer.count - 1
        _ = try call("gethostname", on: "this host") { Glibc.gethostname(&buffer, length) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Waiting

    /// `poll`: waits at most `timeout` milliseconds (-1: with no end) until one of
    /// `descriptors` has an event, and returns how many have one (in their `revents`).
    ///
    /// A signal that interrupts the wait (`EINTR`) is not retried: the call returns 0, as a
    /// timeout does, because the caller's timeout runs to a deadline it must compute again.
    /// On any return every `revents` is this call's, never one left from the previous call.
    static func poll(_ descriptors: inout [pollfd], timeout: CInt, subject: String) throws(DaemonError) -> Int {
        let ready = descriptors.withUnsafeMutableBufferPointer {
            Glibc.poll($0.baseAddress, nfds_t($0.count), timeout)
        }
        if ready >= 0 { return Int(ready) }
        let code = Errno(rawValue: Glibc.errno)
        for index in descriptors.indices { descriptors[index].revents = 0 }
        guard code == .interrupted else { throw .system(call: "poll", subject: subject, errno: code) }
        return 0
    }

    // MARK: Signals and clocks

    /// `swiftcarp_signalfd`: blocks `signals` and returns a non-blocking, close-on-exec
    /// `signalfd` that reads them.
    static func signalDescriptor(for signals: [CInt]) throws(DaemonError) -> FileDescriptor {
        let descriptor = try call("signalfd", on: "\(signals)") {
            signals.withUnsafeBufferPointer { swiftcarp_signalfd($0.baseAddress, CInt($0.count)) }
        }
        return FileDescriptor(rawValue: descriptor)
    }

    /// `swiftcarp_read_signal` (a `read` of one `signalfd_siginfo`): the next pending signal,
    /// or nil when none is pending.
    static func nextSignal(from descriptor: FileDescriptor) throws(DaemonError) -> CInt? {
        let signal = try call("read", on: "signalfd") { swiftcarp_read_signal(descriptor.rawValue) }
        return signal == 0 ? nil : signal
    }

    /// `clock_gettime`. It fails only for a clock the kernel does not have or a bad pointer,
    /// neither possible with the clocks we read: a failure is a bug, not a condition.
    static func clock(_ clock: clockid_t) -> timespec {
        var now = timespec()
        let status = clock_gettime(clock, &now)
        precondition(status == 0, "clock_gettime(\(clock)) failed: \(Errno(rawValue: Glibc.errno))")
        return now
    }
}
