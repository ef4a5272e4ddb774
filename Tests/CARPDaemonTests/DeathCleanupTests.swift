import Testing

@testable import CARPDaemon

@Suite struct DeathCleanupTests {
    static func state(_ state: String, pid: Int32 = 4242) -> String {
        "STATE=\(state)\nPREVIOUS_STATE=BACKUP\nREASON=master-silent\nVHID=1\nINTERFACE=eth0\nPID=\(pid)\n"
    }

    func verdict(_ text: String?, result: String? = "signal", running: Set<Int32> = []) -> DeathCleanup.Verdict {
        DeathCleanup.verdict(stateFile: text, serviceResult: result) { running.contains($0) }
    }

    @Test func aMasterThatWasKilledIsReleased() {
        #expect(verdict(Self.state("MASTER")) == .release(previous: .master, interface: "eth0"))
        #expect(verdict(Self.state("MASTER"), result: "core-dump") == .release(previous: .master, interface: "eth0"))
        #expect(verdict(Self.state("MASTER"), result: nil) == .release(previous: .master, interface: "eth0"))
    }

    @Test func aBackupOrFaultMayHaveDiedInItsDownScriptAndGetsItAgain() {
        #expect(verdict(Self.state("BACKUP")) == .release(previous: .backup, interface: "eth0"))
        #expect(verdict(Self.state("FAULT")) == .release(previous: .fault, interface: "eth0"))
    }

    @Test func aCleanEndIsLeftAlone() {
        #expect(verdict(Self.state("MASTER"), result: "success") == .nothing("the service ended cleanly"))
        #expect(verdict(Self.state("STOPPED")) == .nothing("the instance was STOPPED"))
        #expect(verdict(Self.state("INIT")) == .nothing("the instance was INIT"))
        #expect(verdict(nil) == .nothing("no state file: the instance never started"))
        #expect(verdict("garbage\n") == .nothing("the state file has no STATE"))
    }

    @Test func aRunningInstanceIsNeverTouched() {
        #expect(verdict(Self.state("MASTER"), running: [4242]) == .nothing("the instance (pid 4242) is still running"))
    }
}
