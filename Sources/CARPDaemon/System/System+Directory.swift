import CARPInstance
import Glibc
import SystemPackage

extension System {
    /// `lstat`: what `path` is, or nil if there is nothing there (`ENOENT`).
    static func status(of path: FilePath) throws(DaemonError) -> stat? {
        var info = stat()
        // No error is built for a missing file: the maintenance files are looked for (and
        // mostly missing) at every wake-up.
        while path.withPlatformString({ lstat($0, &info) }) != 0 {
            let code = Errno(rawValue: Glibc.errno)
            switch code {
            case .noSuchFileOrDirectory: return nil
            case .interrupted: continue
            default: throw .system(call: "lstat", subject: path.string, errno: code)
            }
        }
        return info
    }

    /// `mkdir`: a directory at `path`; one already there is left as it is.
    static func makeDirectory(_ path: FilePath, permissions: FilePermissions) throws(DaemonError) {
        do throws(DaemonError) {
            _ = try call("mkdir", on: path.string) { mkdir(path.string, permissions.rawValue) }
        } catch {
            if case .system(_, _, .fileExists) = error { return }
            throw error
        }
    }

    /// `opendir` and `readdir`: the names in the directory, `.` and `..` left out.
    static func entries(of directory: FilePath) throws(DaemonError) -> [String] {
        guard let stream = opendir(directory.string) else {
            throw .system(call: "opendir", subject: directory.string, errno: Errno(rawValue: Glibc.errno))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The first `limit` bytes of the file at `path`, never through a symbolic link; nil if
    /// there is no file there.
    static func readFile(_ path: FilePath, limit: Int) throws(DaemonError) -> [UInt8]? {
        let file: FileDescriptor
        do throws(DaemonError) {
            file = try open(path, .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            if case .system(_, _, .noSuchFileOrDirectory) = error { return nil }
            throw error
        }
        defer { release(file) }
        var bytes: [UInt8] = []
        while bytes.count < limit {
            let chunk = try read(file, upTo: limit - bytes.count, subject: path.string)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return bytes
    }
}
