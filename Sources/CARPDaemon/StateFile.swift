import CARPCore
import Glibc

/// `--statefile`: a small shell-sourceable file describing the current state, replaced
/// atomically (write a temporary file, fsync, rename, fsync the directory) on every change,
/// so a reader never sees a half-written file.
struct StateFile {
    let path: String

    struct Record {
        var state: String
        var previousState: String
        var reason: String
        var vhid: UInt8
        var interface: String
        var virtualAddress: String
        var sourceAddress: IPv4Address
    }

    /// The file's text for `record`, stamped with the wall-clock time (for people; the
    /// daemon's own timers never read it).
    static func contents(of record: Record, now: timespec, pid: pid_t) -> String {
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        let stamp = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return """
            STATE=\(record.state)
            PREVIOUS_STATE=\(record.previousState)
            REASON=\(record.reason)
            VHID=\(record.vhid)
            INTERFACE=\(record.interface)
            VIRTUAL_ADDRESS=\(record.virtualAddress)
            SOURCE_ADDRESS=\(record.sourceAddress)
            SINCE=\(stamp)
            SINCE_EPOCH=\(now.tv_sec)
            PID=\(pid)

            """
    }

    func write(_ record: Record) throws(DaemonError) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let bytes = Array(Self.contents(of: record, now: now, pid: getpid()).utf8)
        let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let temporary = "\(path).tmp.\(getpid())"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw DaemonError.lastError("open", temporary) }
        let written = bytes.withUnsafeBytes { Glibc.write(file, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(file) == 0 else {
            let error = DaemonError.lastError("write", temporary)
            close(file)
            unlink(temporary)
            throw error
        }
        close(file)
        guard rename(temporary, path) == 0 else {
            let error = DaemonError.lastError("rename", path)
            unlink(temporary)
            throw error
        }
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
