import CARPInstance
import Glibc
import SystemPackage

/// `--pidfile`: locked with `flock` for as long as the daemon runs, so a second instance
/// refuses to start over a live one (even after pid reuse), written with the daemon's final
/// pid after daemonizing, and removed at exit.
///
/// It is written in place, not replaced by a rename as the state file is: the lock belongs to
/// this file, and a second instance must find it on the file at `path`. It is opened with
/// `O_NOFOLLOW`: a symbolic link planted at `path` is refused, never written through.
///
/// `flock` takes a lock through any descriptor, a read-only one too: a user who could open the
/// file could hold its lock and stop every restart. So the file is ours alone, mode 0600, and
/// one that belongs to another user is refused. One left readable (0644) by an older version
/// is made so; if someone holds its lock who is not the live daemon whose pid it records (a
/// descriptor opened before the upgrade), it is replaced by a new file, once.
final class PidFile {
    let path: FilePath
    /// Open and locked for as long as the process runs; a re-executed supervisor hands it
    /// across (``init(inherited:path:)``), so the lock is never let go.
    let descriptor: FileDescriptor

    /// The file a predecessor opened and locked (a re-executed supervisor's): close-on-exec again.
    init(inherited descriptor: FileDescriptor, path: FilePath) {
        self.path = path
        self.descriptor = descriptor
        try? System.setCloseOnExec(descriptor, subject: path.string)
    }

    /// Opens and locks the file, or says who holds it.
    init(path: FilePath) throws(DaemonError) {
        self.path = path
        var descriptor = try Self.open(path, exclusive: false)
        var locked = false
        do throws(DaemonError) {
            let wasOpen = try Self.makePrivate(descriptor, path: path)
            locked = try System.tryLock(descriptor, subject: path.string)
            if !locked, wasOpen, !Self.writerLives(descriptor, path: path) {
                // A file left readable by an older version, locked by someone who is not the
                // daemon that wrote it: a descriptor opened before the upgrade. Its lock stays
                // on the old file; a new one takes the name, once (it is 0600 from now on).
                try System.unlink(path)
                System.release(descriptor)
                descriptor = try Self.open(path, exclusive: true)
                locked = try System.tryLock(descriptor, subject: path.string)
            }
        } catch {
            System.release(descriptor)
            throw error
        }
        guard locked else {
            // The pid is only for the message: an unreadable one is shown as "?".
            let text = Self.contents(descriptor, path: path)
            System.release(descriptor)
            throw .alreadyRunning(pid: text.split(separator: "\n").first.map(String.init) ?? "?", pidFile: path.string)
        }
        self.descriptor = descriptor
    }

    private static func open(_ path: FilePath, exclusive: Bool) throws(DaemonError) -> FileDescriptor {
        try System.open(
            path, .readWrite,
            options: exclusive
                ? [.create, .exclusiveCreate, .noFollow, .closeOnExec] : [.create, .noFollow, .closeOnExec],
            permissions: [.ownerReadWrite])
    }

    private static func contents(_ descriptor: FileDescriptor, path: FilePath) -> String {
        let bytes = (try? System.readWhole(descriptor, limit: 32, subject: path.string)) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the pid the file records is a live process (`kill(pid, 0)`): a daemon of an
    /// older version still running, whose lock must be respected.
    private static func writerLives(_ descriptor: FileDescriptor, path: FilePath) -> Bool {
        let first = contents(descriptor, path: path).split(separator: "\n").first ?? ""
        guard let pid = pid_t(first), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Refuses a file of another user's; takes the group's and others' permissions away.
    /// Returns whether it had any (a file of an older version's, which left it 0644).
    private static func makePrivate(_ descriptor: FileDescriptor, path: FilePath) throws(DaemonError) -> Bool {
        var info = stat()
        _ = try System.call("fstat", on: path.string) { fstat(descriptor.rawValue, &info) }
        guard info.st_uid == geteuid() else { throw .pidFileNotOurs(path: path.string, owner: info.st_uid) }
        guard info.st_mode & 0o077 != 0 else { return false }
        _ = try System.call("fchmod", on: path.string) { fchmod(descriptor.rawValue, 0o600) }
        return true
    }

    /// Records `pid` (call after daemonizing, so it is the daemon's): the new text over the
    /// old, then the file cut to its length, so the first line is never empty.
    func write(pid: pid_t) throws(DaemonError) {
        let text = Array("\(pid)\n".utf8)
        try System.seek(descriptor, to: 0, subject: path.string)
        try System.write(text, to: descriptor, subject: path.string)
        try System.truncate(descriptor, to: text.count, subject: path.string)
    }

    private var removed = false

    /// Removes the file; the lock goes with the descriptor.
    func remove() {
        guard !removed else { return }
        removed = true
        // Deliberately best effort, at exit: a file left behind is no longer locked, so it
        // cannot stop the next start, and there is no one left to tell.
        try? System.unlink(path)
        System.release(descriptor)
    }

    /// A start-up that fails after the lock was taken leaves no file behind.
    deinit {
        remove()
    }
}
