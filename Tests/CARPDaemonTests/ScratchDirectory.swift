import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

/// A directory under /tmp, removed with everything in it when the value goes.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/swiftcarp-system.XXXXXX".utf8CString)
        let made = try #require(mkdtemp(&template))
        path = String(cString: made)
    }

    deinit { _ = system("rm -rf '\(path)'") }

    /// The names in the directory, sorted.
    var names: [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The first line of the file `name` in the directory, without its newline; nil while
    /// there is no such file.
    func firstLine(of name: String) -> String? {
        guard let text = try? contents(of: "\(path)/\(name)") else { return nil }
        return String(text.prefix { $0 != "\n" })
    }

    /// The whole contents of the file at `path`, read with a fresh descriptor.
    func contents(of path: String) throws -> String {
        let file = try System.open(FilePath(path), .readOnly, options: .closeOnExec)
        defer { System.release(file) }
        return try String(decoding: readAll(file), as: UTF8.self)
    }
}

/// Everything left to read from `descriptor`.
func readAll(_ descriptor: FileDescriptor) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while true {
        let chunk = try System.read(descriptor, upTo: 4096, subject: "test")
        if chunk.isEmpty { return bytes }
        bytes += chunk
    }
}

extension DaemonError {
    /// The call, subject and errno of a `.system` error.
    var systemCall: (call: String, subject: String, errno: Errno)? {
        guard case .system(let call, let subject, let errno) = self else { return nil }
        return (call, subject, errno)
    }
}
