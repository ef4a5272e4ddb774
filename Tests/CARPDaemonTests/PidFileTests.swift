import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct PidFileTests {
    @Test func aSymbolicLinkAtThePathIsRefusedNotWrittenThrough() throws {
        let scratch = try ScratchDirectory()
        let victim = "\(scratch.path)/victim"
        let path = "\(scratch.path)/ucarp.pid"
        try System.replaceFile(
            at: FilePath(victim), contents: Array("keep\n".utf8), permissions: .ownerReadWrite, durable: false)
        try #require(symlink(victim, path) == 0)
        let error = #expect(throws: DaemonError.self) { _ = try PidFile(path: FilePath(path)) }
        #expect(error.flatMap(\.systemCall)?.errno == .tooManySymbolicLinkLevels)
        #expect(try scratch.contents(of: victim) == "keep\n")
    }

    @Test func recordsThePidAsOneWholeLineEvenOverALongerOne() throws {
        let scratch = try ScratchDirectory()
        let file = try PidFile(path: FilePath("\(scratch.path)/ucarp.pid"))
        try file.write(pid: 123_456)
        #expect(try scratch.contents(of: file.path.string) == "123456\n")
        try file.write(pid: 7)
        #expect(try scratch.contents(of: file.path.string) == "7\n")
    }

    @Test func aSecondInstanceIsRefusedWithTheRunningPidAndLeavesTheFileAlone() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        let running = try PidFile(path: FilePath(path))
        try running.write(pid: 4242)
        let error = #expect(throws: DaemonError.self) {
            _ = try PidFile(path: FilePath(path))
        }
        #expect(
            error?.description == "already running as pid 4242 (\(path) is locked): refusing to start a second instance"
        )
        #expect(try scratch.contents(of: path) == "4242\n")
    }

    @Test func removingTheFileReleasesTheLockForTheNextStart() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        let first = try PidFile(path: FilePath(path))
        try first.write(pid: 4242)
        first.remove()
        #expect(scratch.names == [])
        let next = try PidFile(path: FilePath(path))
        try next.write(pid: 4343)
        #expect(try scratch.contents(of: path) == "4343\n")
    }

    @Test func aPidFileThatCannotBeOpenedNamesItsPath() {
        let path = "/nonexistent-swiftcarp-directory/ucarp.pid"
        let error = #expect(throws: DaemonError.self) {
            _ = try PidFile(path: FilePath(path))
        }
        #expect(error?.description == "open on \(path) failed: No such file or directory")
    }

    /// Issue 23: a user who opened an older version's 0644 file read-only, before the upgrade,
    /// held its lock and stopped every start.
    @Test func aLockHeldOnAnOlderVersionsReadableFileByANonWriterIsLeftBehind() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        // A pid no process has (above any pid_max): the daemon that wrote it is gone.
        try System.replaceFile(
            at: FilePath(path), contents: Array("1073741824\n".utf8),
            permissions: [.ownerReadWrite, .groupRead, .otherRead],
            durable: false)
        #expect(chmod(path, 0o644) == 0)
        let held = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? held.close() }
        #expect(flock(held.rawValue, LOCK_EX | LOCK_NB) == 0)
        let file = try PidFile(path: FilePath(path))
        try file.write(pid: 4343)
        #expect(try scratch.contents(of: path) == "4343\n")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        // A second start now meets the new file's lock.
        #expect(throws: DaemonError.self) { _ = try PidFile(path: FilePath(path)) }
    }

    @Test func aLockOnAnOlderVersionsReadableFileWhoseWriterLivesIsRespected() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        // Our own pid: a live process, as an older daemon still running would be.
        try System.replaceFile(
            at: FilePath(path), contents: Array("\(getpid())\n".utf8), permissions: [.ownerReadWrite],
            durable: false)
        #expect(chmod(path, 0o644) == 0)
        let held = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? held.close() }
        #expect(flock(held.rawValue, LOCK_EX | LOCK_NB) == 0)
        let error = #expect(throws: DaemonError.self) { _ = try PidFile(path: FilePath(path)) }
        #expect(error?.description.hasPrefix("already running as pid \(getpid()) ") == true)
    }
}
