import CARPInstance
import CSystemShims
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

/// The supervisor with real `/bin/sh` children (the only tests here that run processes).
@Suite struct ChildProcessesTests {
    static func shell(_ script: String, environment: [Child.Variable] = []) -> Child.Command {
        .init(path: "/bin/sh", arguments: ["-c", script], environment: environment)
    }

    /// Reaps until `count` children have ended (real processes: this polls, for 10 s at most).
    static func reap(_ supervisor: ChildProcesses, count: Int = 1) -> [(Child.ID, Child.Status)] {
        var ended: [(Child.ID, Child.Status)] = []
        for _ in 0..<2000 where ended.count < count {
            ended += supervisor.reap()
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        return ended
    }

    let first = Child.ID(value: 1)
    let second = Child.ID(value: 2)

    @Test func reportsHowEachChildEnded() throws {
        let supervisor = ChildProcesses()
        try supervisor.spawn(second, Self.shell("exit 3"))
        try supervisor.spawn(first, Self.shell("kill -TERM $$"))
        let ended = Self.reap(supervisor, count: 2).sorted { $0.0.value < $1.0.value }
        #expect(ended.map(\.0) == [first, second])
        #expect(ended.map(\.1) == [.killed(signal: SIGTERM), .exited(3)])
        #expect(supervisor.isEmpty)
        #expect(supervisor.reap().isEmpty)
    }

    @Test func aChildGetsOnlyStandardInputOutputAndErrorOfOurDescriptors() throws {
        // A socket opened without FD_CLOEXEC, as libcurl opens its own.
        let inherited = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(inherited > 2)
        defer { close(inherited) }
        let supervisor = ChildProcesses()
        try supervisor.spawn(
            first, Self.shell("test -e /proc/$$/fd/0 && test -e /proc/$$/fd/2 && ! test -e /proc/$$/fd/\(inherited)"))
        #expect(Self.reap(supervisor).map(\.1) == [.exited(0)])
    }

    @Test func spawnReturnsWhileTheChildRuns() throws {
        let scratch = try ScratchDirectory()
        let supervisor = ChildProcesses()
        try supervisor.spawn(first, Self.shell("sleep 30; echo done > \(scratch.path)/out"))
        // The child sleeps: it is running, not reaped.
        #expect(supervisor.reap().isEmpty)
        #expect(scratch.firstLine(of: "out") == nil)
        supervisor.kill(first)
        #expect(Self.reap(supervisor).map(\.1) == [.killed(signal: SIGKILL)])
    }

    @Test func theEnvironmentGetsTheVariablesAddedOrReplaced() throws {
        let scratch = try ScratchDirectory()
        let supervisor = ChildProcesses()
        setenv("SWIFTCARP_TEST_KEPT", "kept", 1)
        setenv("SWIFTCARP_TEST_REPLACED", "old", 1)
        try supervisor.spawn(
            first,
            Self.shell(
                "echo \"$SWIFTCARP_TEST_KEPT $SWIFTCARP_TEST_REPLACED $CARP_STATE\" > \(scratch.path)/env",
                environment: [.init("SWIFTCARP_TEST_REPLACED", "new"), .init("CARP_STATE", "MASTER")]))
        #expect(Self.reap(supervisor).map(\.1) == [.exited(0)])
        #expect(scratch.firstLine(of: "env") == "kept new MASTER")
    }

    @Test func killingAChildKillsItsWholeProcessGroup() throws {
        let scratch = try ScratchDirectory()
        let supervisor = ChildProcesses()
        try supervisor.spawn(first, Self.shell("sleep 30 & echo $! > \(scratch.path)/pid; wait"))
        var grandchild: pid_t?
        for _ in 0..<2000 where grandchild == nil {
            grandchild = scratch.firstLine(of: "pid").flatMap { pid_t($0) }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        let pid = try #require(grandchild)
        supervisor.kill(first)
        #expect(Self.reap(supervisor).map(\.1) == [.killed(signal: SIGKILL)])
        // The background sleep went with its group: gone, or a zombie waiting for init.
        var gone = false
        for _ in 0..<2000 where !gone {
            let state = Self.processState(pid)
            gone = state == nil || state == "Z"
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        #expect(gone)
    }

    @Test func aCommandThatCannotRunThrowsTheSpawnsError() {
        let supervisor = ChildProcesses()
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try supervisor.spawn(first, .init(path: "/nonexistent/script", arguments: []))
        }
        #expect(supervisor.isEmpty)
    }

    @Test func onlyItsOwnChildrenAreWaitedFor() throws {
        let supervisor = ChildProcesses()
        var stranger: pid_t = 0
        let result = withCStrings(["/bin/sh", "-c", "exit 7"]) { argv in
            swiftcarp_spawn(&stranger, "/bin/sh", argv, environ)
        }
        #expect(result == 0)
        try supervisor.spawn(first, Self.shell("exit 0"))
        #expect(Self.reap(supervisor).map(\.0) == [first])
        // The stranger is still there for whoever started it.
        var status: CInt = 0
        #expect(waitpid(stranger, &status, 0) == stranger)
        #expect(Child.Status(waitStatus: status) == .exited(7))
    }

    @Test func waitingForTheKilledLeavesTheOthersRunning() throws {
        let supervisor = ChildProcesses()
        try supervisor.spawn(first, Self.shell("sleep 30"))
        try supervisor.spawn(second, Self.shell("sleep 30"))
        supervisor.kill(first)
        supervisor.waitForKilled()
        #expect(!supervisor.isEmpty)
        #expect(supervisor.reap().isEmpty)
        supervisor.kill(second)
        supervisor.waitForKilled()
        #expect(supervisor.isEmpty)
    }

    @Test func waitStatusesDecodeAsExitedOrKilled() {
        #expect(Child.Status(waitStatus: 0) == .exited(0))
        #expect(Child.Status(waitStatus: 3 << 8) == .exited(3))
        #expect(Child.Status(waitStatus: 255 << 8) == .exited(255))
        #expect(Child.Status(waitStatus: 9) == .killed(signal: 9))
        // A core dump sets bit 7 beside the signal.
        #expect(Child.Status(waitStatus: 0x80 | 11) == .killed(signal: 11))
    }
}

extension ChildProcessesTests {
    /// The state letter in `/proc/<pid>/stat`, nil when there is no such process.
    static func processState(_ pid: pid_t) -> String? {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, 512, file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // `pid (comm) S ...`: the state follows the last parenthesis.
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first.map(String.init)
    }
}
