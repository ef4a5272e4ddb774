import CARPInstance
import Glibc
import SystemPackage

extension System {
    /// Replaces the file at `path` with `contents`, so that a reader sees the old file or the
    /// new one whole, never a part of one; throws and leaves the old file as it was.
    ///
    /// The contents go to a temporary file in the target's directory, named after the target
    /// with an unpredictable suffix (`NAME.tmp.` and 16 hexadecimal digits from the system's
    /// random number generator) and created with `O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC`:
    /// a file or a symbolic link in its place makes the creation fail rather than be written
    /// through. The temporary file is then renamed over the target, and `rename` replaces a
    /// symbolic link at the target itself, never the file it points to.
    ///
    /// - Parameters:
    ///   - permissions: the new file's mode, less the umask, as `open` creates it.
    ///   - durable: the file is `fsync`'ed before the rename, and its directory after (best
    ///     effort), so that the new contents outlive a crash.
    static func replaceFile(
        at path: FilePath, contents: [UInt8], permissions: FilePermissions, durable: Bool
    ) throws(DaemonError) {
        let temporary = temporaryPath(beside: path)
        let file = try open(
            temporary, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
            permissions: permissions)
        do throws(DaemonError) {
            try write(contents, to: file, subject: temporary.string)
            if durable { try sync(file, subject: temporary.string) }
        } catch {
            release(file)
            discard(temporary)
            throw error
        }
        do throws(DaemonError) {
            try close(file, subject: temporary.string)
            try rename(temporary, to: path)
        } catch {
            discard(temporary)
            throw error
        }
        if durable { syncDirectory(of: path) }
    }

    /// `NAME.tmp.` and 16 random hexadecimal digits, beside `path`.
    static func temporaryPath(beside path: FilePath) -> FilePath {
        var generator = SystemRandomNumberGenerator()
        let digits = String(generator.next(), radix: 16)
        return FilePath(path.string + ".tmp." + String(repeating: "0", count: 16 - digits.count) + digits)
    }

    /// Removes a temporary file that will not be renamed. Best effort: the error being thrown
    /// is the one that matters, and a leftover has a name no later update uses.
    private static func discard(_ temporary: FilePath) {
        try? unlink(temporary)
    }

    /// Makes a rename in the directory of `path` durable across a crash. Deliberately best
    /// effort: readers see the new file whole already, and a directory we may not open for
    /// reading (mode `--x`) must not turn a completed update into an error.
    private static func syncDirectory(of path: FilePath) {
        var directory = path.removingLastComponent()
        if directory.isEmpty { directory = "." }
        guard let descriptor = try? open(directory, .readOnly, options: [.directory, .closeOnExec]) else { return }
        try? sync(descriptor, subject: directory.string)
        release(descriptor)
    }
}
