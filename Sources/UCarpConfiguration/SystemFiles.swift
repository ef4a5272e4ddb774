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

    /// Why a file that was opened is not read: it is not a regular file.
    struct NotRegular: Error, CustomStringConvertible {
        var kind: String
        var description: String { kind == "a directory" ? "Is a directory" : "not a regular file (\(kind))" }
    }

    /// `path` opened for reading if it is a regular file (`open` with `O_NONBLOCK`, so that a
    /// FIFO does not wait for a writer, then `fstat`); throws an `Errno` or ``NotRegular``.
    static func openRegularFile(_ path: String) throws -> FileDescriptor {
        let file = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking])
        var info = stat()
        guard fstat(file.rawValue, &info) == 0 else {
            let error = Errno(rawValue: errno)
            try? file.close()
            throw error
        }
        let kind: String? =
            switch info.st_mode & S_IFMT {
            case S_IFREG: nil
            case S_IFDIR: "a directory"
            case S_IFIFO: "a FIFO"
            case S_IFSOCK: "a socket"
            case S_IFCHR, S_IFBLK: "a device"
            default: "of an unknown type"
            }
        if let kind {
            try? file.close()
            throw NotRegular(kind: kind)
        }
        return file
    }

    /// The whole file, nil if it does not exist (`open`, `read`); a FIFO, a device or a
    /// directory is refused.
    static func readIfPresent(_ path: String) throws(SettingsError) -> [UInt8]? {
        let file: FileDescriptor
        do {
            file = try openRegularFile(path)
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

    /// The start of a `--passfile`, enough for its first line; a FIFO (which would hang the
    /// start-up until a writer came), a device or a directory is refused.
    static func readPassfile(_ path: String) throws(SettingsError) -> [UInt8] {
        do {
            let file = try openRegularFile(path)
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

    /// Why `path` cannot be opened for reading (`open`), nil if it can; what is not a regular
    /// file (a directory, a FIFO, a device) cannot.
    static func unreadable(_ path: String) -> String? {
        do {
            let file = try openRegularFile(path)
            try? file.close()
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
