import CARPInstance
import Glibc
import SystemPackage
import UCarpConfiguration

/// The directories of the files the daemon writes as root (`--pidfile`, `--statefile`,
/// `--metrics-file`): refused at start-up when another user could put a file or a link of
/// theirs there, under the name the daemon writes or locks.
///
/// A directory is safe when neither group nor others may write it, or when it is sticky (then
/// only a file's owner may rename or remove it) and owned by root or by us, as `/tmp` is. Its
/// owner may be another user otherwise (a textfile collector's directory owned by `prometheus`,
/// mode 0755): that user is trusted with what is in it.
public enum FileDirectory {
    /// Why a directory with `mode` (`st_mode`), owned by `owner`, is unsafe for files that
    /// `user` writes; nil if it is safe.
    static func unsafety(mode: UInt32, owner: uid_t, user: uid_t) -> String? {
        let permissions = "mode 0\(String(mode & 0o7777, radix: 8))"
        guard mode & 0o022 != 0 else { return nil }
        guard mode & UInt32(S_ISVTX) != 0 else {
            return "writable by group or others and not sticky (\(permissions))"
        }
        guard owner == 0 || owner == user else {
            return "writable by others, sticky but owned by uid \(owner), who could replace its files (\(permissions))"
        }
        return nil
    }

    /// Checks the directory of each file the settings name; throws
    /// ``DaemonError/unsafeDirectory(option:path:reason:)`` for the first unsafe one. A
    /// directory that cannot be looked at is left to the file's own open to report.
    public static func check(_ settings: Settings) throws(DaemonError) {
        let files: [(String, String?)] = [
            ("--pidfile", settings.pidFile), ("--statefile", settings.stateFile),
            ("--metrics-file", settings.metricsFile), ("--auth-state", settings.authStatePath),
        ]
        for case (let option, let path?) in files {
            var directory = FilePath(path).removingLastComponent()
            if directory.isEmpty { directory = "." }
            var info = stat()
            guard stat(directory.string, &info) == 0 else { continue }
            if let reason = unsafety(mode: UInt32(info.st_mode), owner: info.st_uid, user: geteuid()) {
                throw .unsafeDirectory(option: option, path: path, reason: "\(directory.string) is \(reason)")
            }
        }
    }
}
