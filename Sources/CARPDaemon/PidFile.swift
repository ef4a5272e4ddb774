import Glibc
import SystemPackage

/// `--pidfile`: locked with `flock` for as long as the daemon runs, so a second instance
/// refuses to start over a live one (even after pid reuse), written with the daemon's final
/// pid after daemonizing, and removed at exit.
final class PidFile {
    let path: String
    private let descriptor: CInt

    /// Opens and locks the file, or says who holds it.
    init(path: String) throws(DaemonError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DaemonError.lastError("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let lockError = errno
            // The file is the running instance's: deinit must leave it alone.
            removed = true
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(descriptor, &buffer, buffer.count)
            close(descriptor)
            guard lockError == EWOULDBLOCK else {
                throw .system(call: "flock", subject: path, errno: Errno(rawValue: lockError))
            }
            let text = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
            throw .alreadyRunning(pid: text.split(separator: "\n").first.map(String.init) ?? "?", pidFile: path)
        }
    }

    /// Records `pid` (call after daemonizing, so it is the daemon's).
    func write(pid: pid_t) throws(DaemonError) {
        let text = Array("\(pid)\n".utf8)
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, text, text.count, 0) == text.count else {
            throw DaemonError.lastError("write", path)
        }
    }

    private var removed = false

    /// Removes the file; the lock goes with the descriptor.
    func remove() {
        guard !removed else { return }
        removed = true
        unlink(path)
        close(descriptor)
    }

    /// A start-up that fails after the lock was taken leaves no file behind.
    deinit {
        remove()
    }
}
