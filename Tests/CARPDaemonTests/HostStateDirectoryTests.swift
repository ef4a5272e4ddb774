import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPDaemon

/// `--host-state`: records written, the group's read back, maintenance files, and the host's
/// commands, on a scratch directory.
@Suite struct HostStateDirectoryTests {
    /// A pid above Linux's largest (`pid_max` is at most 2^22): no such process.
    static let deadPID: Int32 = .max - 1
    static let now = MonotonicInstant.seconds(100)

    static func record(
        interface: String, vhid: UInt8, pid: Int32 = getpid(), group: String? = "router", causes: [DemotionCause] = []
    ) -> HostRecord {
        HostRecord(
            pid: pid, vhid: vhid, interface: interface, addresses: ["192.0.2.100"], state: .backup, since: 0,
            reason: "startup", group: group, causes: causes)
    }

    @Test func aMemberReadsItsGroupsRecordsBackOnlyWhenTheDirectoryChanged() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath("\(scratch.path)/state")
        let lan = try HostStateDirectory(path: path, interface: "eth0", vhid: 7, group: "router")
        let wan = try HostStateDirectory(path: path, interface: "eth1", vhid: 8, group: "router")
        let other = try HostStateDirectory(path: path, interface: "eth2", vhid: 9, group: "other")
        try lan.write(Self.record(interface: "eth0", vhid: 7))
        try wan.write(Self.record(interface: "eth1", vhid: 8, causes: [.carrierLost]))
        try other.write(Self.record(interface: "eth2", vhid: 9, group: "other", causes: [.maintenance]))
        #expect(scratch.names == ["state"])
        let first = try lan.read(at: Self.now)
        #expect(!first.maintenance)
        #expect(first.members == [HostGroup.Member(name: "eth1.vhid8", demotion: 240, alive: true)])
        // Nothing changed since: nothing to read again.
        #expect(try lan.read(at: Self.now).members == nil)
        // The same record again is not written again.
        try wan.write(Self.record(interface: "eth1", vhid: 8, causes: [.carrierLost]))
        #expect(try lan.read(at: Self.now).members == nil)
        try wan.write(Self.record(interface: "eth1", vhid: 8))
        #expect(try lan.read(at: Self.now).members == [HostGroup.Member(name: "eth1.vhid8", demotion: 0, alive: true)])
    }

    @Test func aDemotingMemberWhoseProcessIsGoneIsReadAsDead() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath(scratch.path)
        let lan = try HostStateDirectory(path: path, interface: "eth0", vhid: 7, group: "router")
        let wan = try HostStateDirectory(path: path, interface: "eth1", vhid: 8, group: "router")
        try wan.write(Self.record(interface: "eth1", vhid: 8, pid: Self.deadPID, causes: [.checkFailed]))
        #expect(
            try lan.read(at: Self.now).members == [HostGroup.Member(name: "eth1.vhid8", demotion: 240, alive: false)])
    }

    @Test func maintenanceIsTheHostsFileOrTheGroupsAndOutlivesTheInstances() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath("\(scratch.path)/state")
        let lan = try HostStateDirectory(path: path, interface: "eth0", vhid: 7, group: "router")
        let alone = try HostStateDirectory(path: path, interface: "eth2", vhid: 9, group: nil)
        try HostCommands.setMaintenance(true, in: path, group: "router")
        #expect(try lan.read(at: Self.now).maintenance)
        #expect(try !alone.read(at: Self.now).maintenance)
        try HostCommands.setMaintenance(true, in: path, group: nil)
        #expect(try alone.read(at: Self.now).maintenance)
        try HostCommands.setMaintenance(false, in: path, group: nil)
        try HostCommands.setMaintenance(false, in: path, group: nil)
        try HostCommands.setMaintenance(false, in: path, group: "router")
        #expect(try !lan.read(at: Self.now).maintenance)
        #expect(try !alone.read(at: Self.now).maintenance)
    }

    /// The maintenance files are looked up relative to a descriptor on the directory: one
    /// renamed away and made again is the one looked in, with a group at once (its `lstat`
    /// at every wake-up), alone within ``HostStateDirectory/lookUpsCheck``.
    @Test func aDirectoryMadeAgainIsTheOneLookedIn() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath("\(scratch.path)/state")
        let lan = try HostStateDirectory(path: path, interface: "eth0", vhid: 7, group: "router")
        let alone = try HostStateDirectory(path: path, interface: "eth2", vhid: 9, group: nil)
        #expect(try !lan.read(at: Self.now).maintenance)
        #expect(try !alone.read(at: Self.now).maintenance)
        #expect(rename(path.string, "\(scratch.path)/old") == 0)
        #expect(mkdir(path.string, 0o700) == 0)
        try HostCommands.setMaintenance(true, in: path, group: nil)
        #expect(try lan.read(at: Self.now + .seconds(1)).maintenance)
        #expect(try alone.read(at: Self.now + HostStateDirectory.lookUpsCheck).maintenance)
        // The old directory's file does not count.
        try HostCommands.setMaintenance(false, in: path, group: nil)
        try HostCommands.setMaintenance(true, in: FilePath("\(scratch.path)/old"), group: nil)
        #expect(try !lan.read(at: Self.now + .seconds(11)).maintenance)
        #expect(try !alone.read(at: Self.now + .seconds(11)).maintenance)
    }

    @Test func aDirectoryOthersMayWriteIsRefused() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/open"
        #expect(mkdir(path, 0o777) == 0)
        #expect(chmod(path, 0o777) == 0)
        do {
            _ = try HostStateDirectory(path: FilePath(path), interface: "eth0", vhid: 7, group: nil)
            Issue.record("accepted a directory of mode 0777")
        } catch {
            #expect(error.description.contains("--host-state \(path)"), "\(error.description)")
        }
    }

    @Test func statusListsEveryRecordAndShowsTheDeadOnes() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath(scratch.path)
        try HostStateDirectory(path: path, interface: "eth0", vhid: 7, group: "router")
            .write(Self.record(interface: "eth0", vhid: 7))
        try HostStateDirectory(path: path, interface: "eth1", vhid: 8, group: "router")
            .write(Self.record(interface: "eth1", vhid: 8, pid: Self.deadPID))
        try HostStateDirectory(path: path, interface: "eth2", vhid: 9, group: nil)
            .write(Self.record(interface: "eth2", vhid: 9, group: nil))
        try HostCommands.setMaintenance(true, in: path, group: "router")
        let status = try HostCommands.status(of: path, group: nil)
        #expect(status.entries.map(\.record.vhid) == [7, 8, 9])
        #expect(status.entries.map(\.shownState) == ["BACKUP", "DEAD", "BACKUP"])
        #expect(status.groupsInMaintenance == ["router"])
        #expect(!status.hostMaintenance)
        #expect(try HostCommands.status(of: path, group: "router").entries.count == 2)
        guard
            case .failure(let error) = HostCommands.run(
                .status(hostState: "\(scratch.path)/none", group: nil, json: false))
        else {
            Issue.record("a missing directory was read")
            return
        }
        #expect(error.description.contains("/none"))
    }
}
