import Glibc
import SystemPackage
import UCarpConfiguration

/// Reads configuration files (and checks for default scripts) for `--config`.
enum ConfigurationReader {
    /// Far more than any `vip-NNN.conf`; a larger file is refused rather than cut short.
    static let sizeLimit = 1 << 20

    /// The whole file, nil if it does not exist.
    static func readIfPresent(_ path: String) throws(SettingsError) -> [UInt8]? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch let error as Errno {
            throw .configurationUnreadable(path: path, reason: error.description)
        } catch {
            throw .configurationUnreadable(path: path, reason: "\(error)")
        }
        defer { try? file.close() }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            } catch {
                throw .configurationUnreadable(path: path, reason: "\(error)")
            }
            guard count > 0 else { break }
            contents += buffer.prefix(count)
            guard contents.count <= sizeLimit else {
                throw .configurationUnreadable(path: path, reason: "larger than \(sizeLimit) bytes")
            }
        }
        return contents
    }
}
