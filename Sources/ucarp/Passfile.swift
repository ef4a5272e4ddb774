import Glibc
import SystemPackage
import UCarpConfiguration

/// Reads `--passfile`: the caller keeps its first line.
enum Passfile {
    /// ucarp reads at most 511 bytes of the line; a password is at most 19, so 4 KiB is plenty
    /// to tell "too long" from "fits" without reading an arbitrary file whole.
    static let readLimit = 4096

    static func read(_ path: String) throws(SettingsError) -> [UInt8] {
        do {
            let file = try FileDescriptor.open(FilePath(path), .readOnly)
            defer { try? file.close() }
            var buffer = [UInt8](repeating: 0, count: readLimit)
            let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            return Array(buffer.prefix(count))
        } catch let error as Errno {
            throw .passfileUnreadable(path: path, reason: error.description)
        } catch {
            throw .passfileUnreadable(path: path, reason: "\(error)")
        }
    }

    /// A warning when group or others may read the passfile.
    static func permissionWarning(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o044 != 0 else { return nil }
        let mode = String(info.st_mode & 0o777, radix: 8)
        return "passfile \(path) is readable by group or others (mode 0\(mode)): chmod 600 it"
    }

    /// Blanks the values of `--pass` in our own argv, so the password does not stay visible in
    /// `ps` or `/proc/PID/cmdline` (it is still there for the few microseconds until now).
    static func scrubPasswords(from arguments: [String]) {
        let starts = ProcessArguments.argumentStarts()
        for location in UCarpCommandLine.passwordLocations(in: arguments) {
            let index = location.argument + 1  // argv[0] is the program
            guard index < starts.count else { continue }
            let value = starts[index] + location.offset
            memset(value, 0, strlen(value))
        }
    }
}
