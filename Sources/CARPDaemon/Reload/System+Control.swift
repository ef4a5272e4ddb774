import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// The system calls of reloading in place: the control socket, the state's memfd, `execve`.
extension System {
    /// `mkdir` with `mode`, an existing directory accepted if it is a directory (not a
    /// symbolic link), ours and closed to others, as `mode` says; with `rootsToo`, one of
    /// root's is accepted as it is (a daemon run by another user, under root's /run/ucarp).
    static func makePrivateDirectory(_ path: FilePath, mode: mode_t, rootsToo: Bool = false) throws(DaemonError) {
        let made = path.withPlatformString { Glibc.mkdir($0, mode) }
        if made != 0 && Glibc.errno != EEXIST {
            throw .system(call: "mkdir", subject: path.string, errno: Errno(rawValue: Glibc.errno))
        }
        var info = stat()
        _ = try call("lstat", on: path.string) { path.withPlatformString { lstat($0, &info) } }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() || (rootsToo && info.st_uid == 0) else {
            throw .unsafeDirectory(
                option: "the control socket", path: path.string,
                reason: "not a directory of ours (a link, or another owner's)")
        }
        guard info.st_uid == geteuid() else { return }
        if info.st_mode & 0o777 & ~mode != 0 {
            _ = try call("chmod", on: path.string) { path.withPlatformString { chmod($0, mode) } }
        }
    }

    /// A listening Unix stream socket at `path` (mode 0600, non-blocking, close-on-exec).
    static func listenUnix(at path: FilePath) throws(DaemonError) -> FileDescriptor {
        FileDescriptor(
            rawValue: try call("socket/bind/listen", on: path.string) { swiftcarp_control_listen(path.string) })
    }

    /// A blocking connection to the Unix stream socket at `path`.
    static func connectUnix(to path: FilePath) throws(DaemonError) -> FileDescriptor {
        FileDescriptor(rawValue: try call("connect", on: path.string) { swiftcarp_control_connect(path.string) })
    }

    /// `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`: nil when no connection is waiting.
    static func accept(_ listener: FileDescriptor, subject: String) throws(DaemonError) -> FileDescriptor? {
        do throws(DaemonError) {
            let fd = try call("accept4", on: subject) { swiftcarp_accept(listener.rawValue) }
            return FileDescriptor(rawValue: fd)
        } catch {
            guard case .system(_, _, .wouldBlock) = error else { throw error }
            return nil
        }
    }

    /// `getsockopt(SO_PEERCRED)`: the uid of the process at the other end.
    static func peerUID(of socket: FileDescriptor, subject: String) throws(DaemonError) -> uid_t {
        var uid: uid_t = 0
        _ = try call("getsockopt(SO_PEERCRED)", on: subject) { swiftcarp_peer_uid(socket.rawValue, &uid) }
        return uid
    }

    /// `memfd_create`: an anonymous file that the next program inherits once its close-on-exec
    /// flag is cleared.
    static func memoryFile(named name: String) throws(DaemonError) -> FileDescriptor {
        FileDescriptor(rawValue: try call("memfd_create", on: name) { swiftcarp_memfd(name) })
    }

    /// `pread` from offset 0: at most `limit` bytes of the file.
    static func readWhole(_ descriptor: FileDescriptor, limit: Int, subject: String) throws(DaemonError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < limit {
            let chunk = try calling("pread", on: subject) { () throws -> [UInt8] in
                var buffer = [UInt8](repeating: 0, count: min(4096, limit - bytes.count))
                let got = try buffer.withUnsafeMutableBytes {
                    try descriptor.read(fromAbsoluteOffset: Int64(bytes.count), into: $0)
                }
                return Array(buffer.prefix(got))
            }
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return bytes
    }

    /// `fcntl(F_SETFD, 0)`: the next program (after `execve`) inherits the descriptor.
    static func clearCloseOnExec(_ descriptor: FileDescriptor, subject: String) throws(DaemonError) {
        _ = try call("fcntl(F_SETFD, 0)", on: subject) { fcntl(descriptor.rawValue, F_SETFD, 0) }
    }

    /// `execve(path, argv, environ)`, or `execveat(descriptor, "", ..., AT_EMPTY_PATH)` for a
    /// program held open; returns only when it failed, with errno.
    static func execute(_ program: ReloadProgram, argv: [[UInt8]]) -> Errno {
        _ = withArgv(argv) { argv -> CInt in
            switch program {
            case .path(let path): swiftcarp_exec(path, argv)
            case .descriptor(let descriptor): swiftcarp_exec_fd(descriptor.rawValue, argv)
            }
        }
        return Errno(rawValue: Glibc.errno)
    }

    /// Calls `body` with `argv` as C's NULL-terminated array: the bytes as given (a password
    /// need not be UTF-8), each NUL-terminated.
    static func withArgv<Result>(
        _ argv: [[UInt8]], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Result
    ) -> Result {
        let strings = argv.map { bytes in
            let string = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { string[index] = CChar(bitPattern: byte) }
            string[bytes.count] = 0
            return string
        }
        defer { for string in strings { string.deallocate() } }
        let pointers: [UnsafeMutablePointer<CChar>?] = strings + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// The program a re-execution runs: the binary on disk, or the old one held open.
enum ReloadProgram {
    case path(String)
    case descriptor(FileDescriptor)
}
