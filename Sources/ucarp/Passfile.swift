import CARPCore
import SystemPackage

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
}
