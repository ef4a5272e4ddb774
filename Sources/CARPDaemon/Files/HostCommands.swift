import CARPInstance
import Glibc
import SystemPackage
import UCarpConfiguration

/// `ucarp --status` and `ucarp --maintenance`: what they print, or why they cannot.
public enum HostCommands {
    /// Carries out `command`: the text for standard output, or the error that stops it.
    public static func run(_ command: HostCommand) -> Result<String, DaemonError> {
        do throws(DaemonError) {
            switch command {
            case .status(let directory, let group, let json):
                let status = try status(of: FilePath(directory), group: group)
                return .success(json ? status.json : status.table)
            case .maintenance(let directory, let group, let on):
                let path = FilePath(directory)
                if let on {
                    try setMaintenance(on, in: path, group: group)
                }
                let state = try HostStateDirectory.maintenance(in: path, group: group) ? "on" : "off"
                let scope = group.map { "group \($0)" } ?? "host"
                return .success("maintenance (\(scope)): \(state)\n")
            }
        } catch {
            return .failure(error)
        }
    }

    /// Every record in `directory` (of `group` only, if given), each with whether its process
    /// still runs.
    static func status(of directory: FilePath, group: String?) throws(DaemonError) -> HostStatus {
        var entries: [HostStatus.Entry] = []
        var groupsOn: [String] = []
        let prefix = HostStateDirectory.maintenanceName + "."
        for name in try System.entries(of: directory) {
            if name.hasPrefix(prefix), !name.contains(".tmp.") {
                groupsOn.append(String(name.dropFirst(prefix.count)))
                continue
            }
            guard name.hasSuffix(HostRecord.fileSuffix),
                let bytes = try System.readFile(directory.appending(name), limit: HostStateDirectory.recordLimit),
                let record = HostRecord(parsing: String(decoding: bytes, as: UTF8.self))
            else { continue }
            if let group, record.group != group { continue }
            let alive = (try? System.processExists(record.pid)) ?? true
            entries.append(HostStatus.Entry(record: record, alive: alive))
        }
        let hostOn = try System.status(of: directory.appending(HostStateDirectory.maintenanceName)) != nil
        return HostStatus(entries: entries, hostMaintenance: hostOn, groupsInMaintenance: groupsOn)
    }

    /// Turns maintenance on (a file that outlives restarts and reboots) or off.
    static func setMaintenance(_ on: Bool, in directory: FilePath, group: String?) throws(DaemonError) {
        let file = directory.appending(HostStateDirectory.maintenanceName(group: group))
        guard on else {
            do throws(DaemonError) {
                try System.unlink(file)
            } catch {
                if case .system(_, _, .noSuchFileOrDirectory) = error { return }
                throw error
            }
            return
        }
        try HostStateDirectory.prepare(directory)
        let stamp = System.clock(CLOCK_REALTIME).tv_sec
        try System.replaceFile(
            at: file, contents: Array("on since \(stamp)\n".utf8), permissions: .ownerReadWrite, durable: true)
    }
}
