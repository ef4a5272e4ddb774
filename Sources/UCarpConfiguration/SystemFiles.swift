import Glibc
import SystemPackage

extension UCarpCommandLine.Environment {
    /// This machine's files and working directory; interfaces as `interfaceExists` finds them.
    public static func system(interfaceExists: @escaping (String) -> Bool) -> Self {
        Self(
            read: SystemFiles.readPassfile, readIfPresent: SystemFiles.readIfPresent,
            permissions: SystemFiles.permissions, interfaceExists: interfaceExists,
            currentDirectory: SystemFiles.currentDirectory(), unreadable: SystemFiles.unreadable)
    }
}

/// The files the configuration stage reads: passfiles, configuration files, default scripts.
enum SystemFiles {
    /// Far more than any `vip-NNN.conf`; a larger file is refused rather than cut short.
    static let sizeLimit = 1 << 20

    /// ucarp reads at most 511 bytes of the line; a password is at most 19, so 4 KiB is plenty
    /// to tell "too long" from "fits" without reading an arbitrary file whole.
    static let passfileReadLimit = 4096

    /// The whole file, nil if it does not exist (`open`, `read`).
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

    /// The start of a `--passfile`, enough for its first line.
    static func readPassfile(_ path: String) throws(SettingsError) -> [UInt8] {
        do {
            let file = try FileDescriptor.open(FilePath(path), .readOnly)
            defer { try? file.close() }
            var buffer = [UInt8](repeating: 0, count: passfileReadLimit)
            let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            return Array(buffer.prefix(count))
        } catch let error as Errno {
            throw .passfileUnreadable(path: path, reason: error.description)
        } catch {
            throw .passfileUnreadable(path: path, reason: "\(error)")
        }
    }

    /// Why `path` cannot be opened for reading (`open`), nil if it can; a directory cannot.
    static func unreadable(_ path: String) -> String? {
        do {
            let file = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
            defer { try? file.close() }
            var info = stat()
            if fstat(file.rawValue, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return "Is a directory" }
            return nil
        } catch let error as Errno {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    /// `stat`'s `st_mode`, nil if the file cannot be looked at.
    static func permissions(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode)
    }

    /// `getcwd`, nil if it fails.
    static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
