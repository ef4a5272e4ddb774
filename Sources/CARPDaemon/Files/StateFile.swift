import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// `--statefile`: a small shell-sourceable file describing the current state, replaced whole
/// and durably on every change (``System/replaceFile(at:contents:permissions:durable:)``), so
/// a reader never sees a half-written file.
struct StateFile {
    let path: FilePath

    struct Record {
        var state: String
        var previousState: String
        var reason: String
        var vhid: UInt8
        var interface: String
        /// The first virtual address as given (ucarp's one).
        var virtualAddress: String
        var sourceAddress: IPAddress
        /// Every virtual address as given, when there are several: `VIRTUAL_ADDRESSES`.
        var virtualAddresses: [String] = []
        /// With `--etcd`: the key, and the lease while it is ours.
        var etcdKey: String? = nil
        var etcdLease: Int64? = nil
        /// Our own demotion causes (maintenance, carrier-lost, ...): `DEMOTION`, empty when none.
        var demotion: [String] = []
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
        // Quoted, so that the file stays shell-sourceable; absent for one address (ucarp's case).
        let severalAddresses =
            record.virtualAddresses.count > 1
            ? "\nVIRTUAL_ADDRESSES=\"\(record.virtualAddresses.joined(separator: " "))\"" : ""
        let etcd =
            (record.etcdKey.map { "ETCD_KEY=\($0)\n" } ?? "") + (record.etcdLease.map { "ETCD_LEASE=\($0)\n" } ?? "")
        return """
            STATE=\(record.state)
            PREVIOUS_STATE=\(record.previousState)
            REASON=\(record.reason)
            VHID=\(record.vhid)
            INTERFACE=\(record.interface)
            VIRTUAL_ADDRESS=\(record.virtualAddress)\(severalAddresses)
            SOURCE_ADDRESS=\(record.sourceAddress)
            DEMOTION="\(record.demotion.joined(separator: " "))"
            SINCE=\(stamp)
            SINCE_EPOCH=\(now.tv_sec)
            PID=\(pid)

            """ + etcd
    }

    /// Replaces the file with `record`'s text, or throws and leaves the file at `path` as it was.
    func write(_ record: Record) throws(DaemonError) {
        let text = Self.contents(of: record, now: System.clock(CLOCK_REALTIME), pid: getpid())
        try System.replaceFile(
            at: path, contents: Array(text.utf8), permissions: [.ownerReadWrite, .groupRead, .otherRead],
            durable: true)
    }
}
