import CARPInstance
import Glibc
import SystemPackage

extension System {
    /// `open(O_DIRECTORY)`: a descriptor on the directory at `path`, to look names up in it
    /// (``status(of:in:)``).
    static func openDirectoryForLookUps(_ path: FilePath) throws(DaemonError) -> FileDescriptor {
        try open(path, .readOnly, options: [.directory, .closeOnExec])
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)`: `lstat` of `name` (its C string, made once by the
    /// caller: this runs at every wake-up) in the directory `directory`, one component for the
    /// kernel to walk instead of a whole path; nil when there is none.
    static func status(of name: ContiguousArray<CChar>, in directory: FileDescriptor) throws(DaemonError) -> stat? {
        var info = stat()
        while name.withUnsafeBufferPointer({ fstatat(directory.rawValue, $0.baseAddress!, &info, AT_SYMLINK_NOFOLLOW) })
            != 0
        {
            let code = Errno(rawValue: Glibc.errno)
            switch code {
            case .noSuchFileOrDirectory: return nil
            case .interrupted: continue
            default:
                throw .system(
                    call: "fstatat", subject: name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
                    errno: code)
            }
        }
        return info
    }

    /// `fstat`.
    static func status(of descriptor: FileDescriptor, subject: String) throws(DaemonError) -> stat {
        var info = stat()
        while fstat(descriptor.rawValue, &info) != 0 {
            let code = Errno(rawValue: Glibc.errno)
            guard code == .interrupted else { throw .system(call: "fstat", subject: subject, errno: code) }
        }
        return info
    }
}
