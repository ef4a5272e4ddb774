import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPDaemon

/// The files the daemon writes as root, against another local user: directories where a file or
/// a link could be planted, and the pid file's lock.
struct HostFilesTests {
    // MARK: Directories

    @Test func aDirectoryOthersMayWriteIsUnsafeUnlessStickyAndRootsOrOurs() {
        #expect(FileDirectory.unsafety(mode: 0o40755, owner: 0, user: 0) == nil)
        #expect(FileDirectory.unsafety(mode: 0o40700, owner: 0, user: 0) == nil)
        // A textfile collector's directory, owned by its own user: trusted with its files.
        #expect(FileDirectory.unsafety(mode: 0o40755, owner: 996, user: 0) == nil)
        // /tmp.
        #expect(FileDirectory.unsafety(mode: 0o41777, owner: 0, user: 0) == nil)
        #expect(
            FileDirectory.unsafety(mode: 0o40777, owner: 0, user: 0)
                == "writable by group or others and not sticky (mode 0777)")
        #expect(
            FileDirectory.unsafety(mode: 0o40775, owner: 0, user: 0)
                == "writable by group or others and not sticky (mode 0775)")
        #expect(
            FileDirectory.unsafety(mode: 0o41777, owner: 1000, user: 0)
                == "writable by others, sticky but owned by uid 1000, who could replace its files (mode 01777)")
        #expect(FileDirectory.unsafety(mode: 0o41777, owner: 1000, user: 1000) == nil)
    }

    func settings(stateFile: String? = nil, pidFile: String? = nil, metricsFile: String? = nil) -> Settings {
        var settings = Settings(
            interface: "eth0", sourceAddress: IPv4Address(192, 0, 2, 11), vhid: 7, password: Array("pw".utf8),
            virtualAddress: IPv4Address(192, 0, 2, 100))
        settings.stateFile = stateFile
        settings.pidFile = pidFile
        settings.metricsFile = metricsFile
        return settings
    }

    @Test func theFilesDirectoriesAreCheckedAtStartUp() throws {
        let scratch = try ScratchDirectory()
        #expect(chmod(scratch.path, 0o777) == 0)
        let error = #expect(throws: DaemonError.self) {
            try FileDirectory.check(settings(stateFile: "\(scratch.path)/state"))
        }
        #expect(
            error?.description
                == "--statefile \(scratch.path)/state: its directory \(scratch.path) is writable by group or others "
                + "and not sticky (mode 0777): another user could put a link or a file of theirs there; use a "
                + "directory only root can write, such as /run/ucarp")
        #expect(chmod(scratch.path, 0o1777) == 0)
        try FileDirectory.check(settings(stateFile: "\(scratch.path)/state", pidFile: "/tmp/ucarp.pid"))
        #expect(chmod(scratch.path, 0o755) == 0)
        try FileDirectory.check(settings(metricsFile: "\(scratch.path)/ucarp.prom"))
    }

    // MARK: The pid file's lock

    func mode(of path: String) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt32(info.st_mode) & 0o7777
    }

    @Test func thePidFileIsOursAloneSoNoOtherUserCanTakeItsLock() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        let file = try PidFile(path: FilePath(path))
        #expect(mode(of: path) == 0o600)
        file.remove()
        // One left readable by an older version is made private.
        let old = open(path, O_CREAT | O_WRONLY, 0o644)
        close(old)
        #expect(chmod(path, 0o644) == 0)
        let again = try PidFile(path: FilePath(path))
        #expect(mode(of: path) == 0o600)
        again.remove()
    }

    @Test func aPidFileOfAnotherUsersIsRefused() throws {
        guard geteuid() == 0 else { return }  // needs chown
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/ucarp.pid"
        close(open(path, O_CREAT | O_WRONLY, 0o600))
        #expect(chown(path, 65534, 65534) == 0)
        let error = #expect(throws: DaemonError.self) { _ = try PidFile(path: FilePath(path)) }
        #expect(
            error?.description
                == "--pidfile \(path) belongs to uid 65534, not to us: that user could hold its lock; remove it")
    }

    // MARK: --cleanup

    @Test func cleanupActsOnlyOnTheConfiguredInterface() {
        #expect(DeathCleanup.interfaceRefusal(recorded: "eth0", expected: "eth0") == nil)
        #expect(DeathCleanup.interfaceRefusal(recorded: nil, expected: "eth0") == nil)
        #expect(
            DeathCleanup.interfaceRefusal(recorded: "lo", expected: "eth0")
                == "the state file names interface lo, the configuration eth0: is it another instance's state file?")
        #expect(DeathCleanup.interfaceRefusal(recorded: "eth1", expected: nil) != nil)
    }
}
