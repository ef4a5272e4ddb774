import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import UCarpConfiguration

/// `--host-state`: the directory the instances of a host share (`/var/lib/ucarp` by default).
///
/// Each instance keeps its ``HostRecord`` there (`IFACE.vhidN.record`, mode 0600, replaced
/// whole), reads its group's records back, and looks for the maintenance files: `maintenance`
/// for the whole host, `maintenance.GROUP` for one group. The directory is 0700, and refused
/// when another user could write it, as the other files' directories are (``FileDirectory``).
///
/// Reading costs little at each wake-up: one `lstat` of the directory (a record replaced is a
/// rename, which changes the directory's modification time; only then are the records read
/// again), one `fstatat` of each maintenance file relative to a descriptor kept on the
/// directory (one component for the kernel to walk, not the whole path), and `kill(pid, 0)`
/// for each member that demotes the group, so that a member that died stops counting. The kernel stamps times from a coarse
/// clock (a tick, some milliseconds), so two renames in one tick leave one time: a time less
/// than ``settling`` old is read again at the next wake-up, until it is older.
final class HostStateDirectory {
    let path: FilePath
    /// Our record's name in the directory.
    let recordName: String
    let group: String?
    /// The directory's modification time when its records were last read, and whether it
    /// was old enough then (``settling``) that no later change can have kept it.
    private var readAt: timespec?
    private var settled = false

    /// How old a modification time must be before a later change would show in it.
    static let settling = 1.0
    /// The other members as last read, with their pids.
    private var members: [(member: HostGroup.Member, pid: pid_t)] = []
    /// What we last wrote, to write only what changed.
    private(set) var written: HostRecord?
    /// What the instance showed when ``written`` was last made from it (nil before, and once
    /// a record of the predecessor's is adopted): while the instance shows the same, the
    /// record is not built again (``Daemon/writeHostRecord(to:)``).
    var writtenSource: Instance.HostRecordSource?

    /// The host-wide maintenance file's name, and a group's.
    static let maintenanceName = "maintenance"
    static func maintenanceName(group: String?) -> String {
        group.map { "\(maintenanceName).\($0)" } ?? maintenanceName
    }

    /// The maintenance files that concern us (the host's, our group's), made once: they are
    /// looked for at every wake-up.
    private let maintenancePaths: [FilePath]
    /// Their names, as C strings.
    private let maintenanceNames: [ContiguousArray<CChar>]

    /// The directory, opened for look-ups, and its device and inode then: the
    /// maintenance files are looked for relative to it. nil while it cannot be opened (the
    /// paths are looked up whole then).
    private var lookUps: (descriptor: FileDescriptor, device: dev_t, inode: ino_t)?
    /// When the descriptor was last found to be the directory at ``path`` still: a directory
    /// removed, or renamed, and made again is the one looked in within ``lookUpsCheck``
    /// (with a group at once: the directory's `lstat` at every wake-up checks it).
    private var lookUpsCheckedAt: MonotonicInstant?
    static let lookUpsCheck = MonotonicDuration.seconds(10)

    /// Makes the directory if need be (0700), and checks that no other user could write it.
    init(path: FilePath, interface: String, vhid: UInt8, group: String?) throws(DaemonError) {
        self.path = path
        self.group = group
        maintenancePaths = Self.maintenancePaths(in: path, group: group)
        maintenanceNames = ([Self.maintenanceName] + (group.map { [Self.maintenanceName(group: $0)] } ?? [])).map(
            \.utf8CString)
        recordName = HostRecord.fileName(interface: interface, vhid: vhid)
        try Self.prepare(path)
        openLookUps()
    }

    deinit {
        if let lookUps { System.release(lookUps.descriptor) }
    }

    /// (Re)opens ``lookUps`` on the directory now at ``path``; nil if it cannot be.
    private func openLookUps() {
        if let lookUps { System.release(lookUps.descriptor) }
        lookUps = nil
        guard let descriptor = try? System.openDirectoryForLookUps(path) else { return }
        guard let info = try? System.status(of: descriptor, subject: path.string) else {
            System.release(descriptor)
            return
        }
        lookUps = (descriptor, info.st_dev, info.st_ino)
    }

    /// Whether maintenance is on for us, looked up relative to the directory's descriptor.
    /// `directory` is the `lstat` of ``path`` when the caller made one now (with a group):
    /// the descriptor is checked against it; else every ``lookUpsCheck``.
    private func maintenance(directory: stat??, at now: MonotonicInstant) throws(DaemonError) -> Bool {
        if directory != nil || lookUpsCheckedAt.map({ now.duration(since: $0) >= Self.lookUpsCheck }) ?? true {
            let current: stat?
            if let directory { current = directory } else { current = try System.status(of: path) }
            if lookUps?.device != current?.st_dev || lookUps?.inode != current?.st_ino || lookUps == nil {
                openLookUps()
            }
            lookUpsCheckedAt = now
        }
        guard let lookUps else { return try Self.maintenance(at: maintenancePaths) }
        for name in maintenanceNames where try System.status(of: name, in: lookUps.descriptor) != nil { return true }
        return false
    }

    /// Creates `path` (mode 0700) if it is not there, and refuses one others may write.
    static func prepare(_ path: FilePath) throws(DaemonError) {
        try System.makeDirectory(path, permissions: .ownerReadWriteExecute)
        guard let info = try System.status(of: path) else {
            throw .system(call: "lstat", subject: path.string, errno: .noSuchFileOrDirectory)
        }
        guard UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) else {
            throw .system(call: "opendir", subject: path.string, errno: .notDirectory)
        }
        if let reason = FileDirectory.unsafety(mode: UInt32(info.st_mode), owner: info.st_uid, user: geteuid()) {
            throw .unsafeDirectory(option: "--host-state", path: path.string, reason: "it is \(reason)")
        }
    }

    /// Whether maintenance is on for the host, or for `group`.
    static func maintenance(in path: FilePath, group: String?) throws(DaemonError) -> Bool {
        try maintenance(at: maintenancePaths(in: path, group: group))
    }

    /// The host's maintenance file, then `group`'s.
    static func maintenancePaths(in path: FilePath, group: String?) -> [FilePath] {
        [path.appending(maintenanceName)] + (group.map { [path.appending(maintenanceName(group: $0))] } ?? [])
    }

    /// Whether any of `paths` exists (`lstat`), in order: the host's is looked for first.
    static func maintenance(at paths: [FilePath]) throws(DaemonError) -> Bool {
        for path in paths where try System.status(of: path) != nil { return true }
        return false
    }

    /// Maintenance for us now, and the other members of our group if something changed
    /// since the last call (a record replaced, a demoting member gone); nil if not.
    func read(at now: MonotonicInstant) throws(DaemonError) -> (maintenance: Bool, members: [HostGroup.Member]?) {
        guard group != nil else { return (try maintenance(directory: nil, at: now), nil) }
        let directory = try System.status(of: path)
        let maintenance = try maintenance(directory: .some(directory), at: now)
        var changed = false
        if let info = directory,
            !settled
                || readAt.map({ $0.tv_sec != info.st_mtim.tv_sec || $0.tv_nsec != info.st_mtim.tv_nsec }) ?? true
        {
            let now = System.clock(CLOCK_REALTIME)
            readAt = info.st_mtim
            settled = Self.seconds(now) - Self.seconds(info.st_mtim) > Self.settling
            let read = try readMembers()
            changed = read.map(\.member) != members.map(\.member) || read.map(\.pid) != members.map(\.pid)
            members = read
        }
        // A demoting member that died stops counting.
        for index in members.indices where members[index].member.demotion > 0 && members[index].member.alive {
            if try !System.processExists(members[index].pid) {
                members[index].member.alive = false
                changed = true
            }
        }
        return (maintenance, changed ? members.map(\.member) : nil)
    }

    static func seconds(_ time: timespec) -> Double {
        Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Every other record of our group, read afresh.
    private func readMembers() throws(DaemonError) -> [(member: HostGroup.Member, pid: pid_t)] {
        var found: [(member: HostGroup.Member, pid: pid_t)] = []
        for name in try System.entries(of: path)
        where name.hasSuffix(HostRecord.fileSuffix) && name != recordName {
            guard let bytes = try? System.readFile(path.appending(name), limit: Self.recordLimit),
                let record = HostRecord(parsing: String(decoding: bytes, as: UTF8.self)),
                record.group == group
            else { continue }
            let alive = record.state != .stopped && ((try? System.processExists(record.pid)) ?? true)
            found.append(
                (
                    HostGroup.Member(
                        name: String(name.dropLast(HostRecord.fileSuffix.count)), demotion: record.demotion,
                        alive: alive), record.pid
                ))
        }
        return found
    }

    /// A record is a few hundred bytes; anything past this is not one of ours.
    static let recordLimit = 16 * 1024

    /// Our record's full path.
    var recordPath: FilePath { path.appending(recordName) }

    /// After a reload (the same process, re-executed): our record as the predecessor wrote it
    /// becomes what was last written, so that its `since` carries on. A record of another
    /// process is left alone.
    func adoptRecord(of pid: pid_t) {
        guard let bytes = try? System.readFile(recordPath, limit: Self.recordLimit),
            let record = HostRecord(parsing: String(decoding: bytes, as: UTF8.self)), record.pid == pid
        else { return }
        written = record
        writtenSource = nil
    }

    /// Our record as the predecessor wrote it in another directory (a reload moved it): its
    /// `since` carries on until we have written ours here.
    var carried: HostRecord?

    /// Removes the record at `path` if it is `pid`'s (a reload moved the record elsewhere);
    /// the record removed, nil if none was.
    static func removeRecord(at path: FilePath, of pid: pid_t) throws(DaemonError) -> HostRecord? {
        guard let bytes = try System.readFile(path, limit: recordLimit),
            let record = HostRecord(parsing: String(decoding: bytes, as: UTF8.self)), record.pid == pid
        else { return nil }
        try System.unlink(path)
        return record
    }

    /// Replaces our record with `record`, if it changed.
    func write(_ record: HostRecord) throws(DaemonError) {
        guard record != written else { return }
        try System.replaceFile(
            at: path.appending(recordName), contents: Array(record.text.utf8), permissions: .ownerReadWrite,
            durable: false)
        written = record
    }
}
