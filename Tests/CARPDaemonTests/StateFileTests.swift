import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct StateFileTests {
    static func record(_ state: String, previous: String = "INIT") -> StateFile.Record {
        .init(
            state: state, previousState: previous, reason: "master-silent", vhid: 7, interface: "eth0",
            virtualAddress: "192.0.2.100", sourceAddress: .ipv4(IPv4Address(192, 0, 2, 1)))
    }

    @Test func writesTheWholeRecordAndLeavesNoTemporaryFile() throws {
        let scratch = try ScratchDirectory()
        let file = StateFile(path: FilePath("\(scratch.path)/state"))
        try file.write(Self.record("MASTER"))
        let lines = try scratch.contents(of: file.path.string).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            Array(lines.prefix(7)) == [
                "STATE=MASTER", "PREVIOUS_STATE=INIT", "REASON=master-silent", "VHID=7", "INTERFACE=eth0",
                "VIRTUAL_ADDRESS=192.0.2.100", "SOURCE_ADDRESS=192.0.2.1",
            ])
        #expect(lines.count == 12)
        #expect(lines[7] == "DEMOTION=\"\"")
        #expect(lines.dropLast().last == "PID=\(getpid())")
        #expect(lines.last == "")
        #expect(scratch.names == ["state"])
    }

    @Test func severalAddressesAreListedAfterTheFirst() {
        var record = Self.record("MASTER")
        record.virtualAddresses = ["192.0.2.100", "2001:db8::100"]
        let text = StateFile.contents(of: record, now: timespec(tv_sec: 0, tv_nsec: 0), pid: 1)
        #expect(text.contains("\nVIRTUAL_ADDRESS=192.0.2.100\nVIRTUAL_ADDRESSES=\"192.0.2.100 2001:db8::100\"\nSOURCE"))
        record.virtualAddresses = ["192.0.2.100"]
        let one = StateFile.contents(of: record, now: timespec(tv_sec: 0, tv_nsec: 0), pid: 1)
        #expect(!one.contains("VIRTUAL_ADDRESSES"))
    }

    /// A reader that opened the old file goes on reading it whole: the new one is another
    /// file renamed over it, never the old one rewritten in place.
    @Test func replacesTheFileSoAReaderOfTheOldOneSeesItWhole() throws {
        let scratch = try ScratchDirectory()
        let file = StateFile(path: FilePath("\(scratch.path)/state"))
        try file.write(Self.record("BACKUP"))
        let before = try scratch.contents(of: file.path.string)
        let reader = try System.open(file.path, .readOnly, options: .closeOnExec)
        defer { System.release(reader) }
        try file.write(Self.record("MASTER", previous: "BACKUP"))
        #expect(try String(decoding: readAll(reader), as: UTF8.self) == before)
        #expect(try scratch.contents(of: file.path.string).hasPrefix("STATE=MASTER\nPREVIOUS_STATE=BACKUP\n"))
        #expect(scratch.names == ["state"])
    }

    @Test func aFailedRenameKeepsWhatWasThereAndRemovesTheTemporaryFile() throws {
        let scratch = try ScratchDirectory()
        // A directory with something in it cannot be replaced by a file.
        let path = "\(scratch.path)/state"
        mkdir(path, 0o755)
        mkdir("\(path)/inside", 0o755)
        let error = #expect(throws: DaemonError.self) {
            try StateFile(path: FilePath(path)).write(Self.record("MASTER"))
        }
        #expect(error.flatMap(\.systemCall)?.call == "rename")
        #expect(error.flatMap(\.systemCall)?.subject == path)
        #expect(scratch.names == ["state"])
    }

    @Test func aStateFileInAMissingDirectoryNamesTheFileItCouldNotCreate() {
        let path = "/nonexistent-swiftcarp-directory/state"
        let error = #expect(throws: DaemonError.self) {
            try StateFile(path: FilePath(path)).write(Self.record("MASTER"))
        }
        #expect(error?.description.hasPrefix("open on \(path).tmp.") == true)
        #expect(error?.description.hasSuffix(" failed: No such file or directory") == true)
    }
}

extension StateFileTests {
    @Test func underTheEtcdGuardTheKeyAndTheLeaseHeldFollowThePid() {
        var record = Self.record("MASTER")
        record.etcdKey = "/swiftcarp/7/192.0.2.100"
        record.etcdLease = 42
        let text = StateFile.contents(of: record, now: timespec(tv_sec: 0, tv_nsec: 0), pid: 9)
        #expect(text.hasSuffix("PID=9\nETCD_KEY=/swiftcarp/7/192.0.2.100\nETCD_LEASE=42\n"))
        #expect(
            StateFile.contents(of: Self.record("MASTER"), now: timespec(tv_sec: 0, tv_nsec: 0), pid: 9).hasSuffix(
                "PID=9\n"))
    }
}
