import SystemPackage
import Testing

@testable import CARPDaemon

/// The hidden arguments a re-executed supervisor finds its predecessor's descriptors by.
@Suite struct SupervisorHandoverTests {
    let given = [Array("--config=/etc/ucarp/vip-001.conf".utf8), Array("-B".utf8)]

    @Test func theHiddenArgumentsAreTakenOffAndReadBack() throws {
        let handover = SupervisorHandover(
            state: FileDescriptor(rawValue: 5), reports: FileDescriptor(rawValue: 6),
            pidFile: FileDescriptor(rawValue: 7), oldProgram: FileDescriptor(rawValue: 8))
        #expect(handover.arguments == [Array("--swiftcarp-supervise=5,6,7,8".utf8)])
        let (arguments, taken) = SupervisorHandover.take(from: given + handover.arguments)
        #expect(arguments == given)
        let read = try #require(taken)
        #expect(read.arguments == handover.arguments)
        #expect(read.pidFile == FileDescriptor(rawValue: 7))
        #expect(read.fallbackReason == nil)
        // A worker's own hidden argument is not the supervisor's.
        #expect(ResumeHandover.take(from: given + handover.arguments).handover == nil)
    }

    @Test func aFallbackCarriesTheReasonAndNoPidFile() throws {
        let hidden = [Array("--swiftcarp-supervise=5,6,-1,8".utf8), Array("--swiftcarp-supervise-fallback=bad".utf8)]
        let (arguments, taken) = SupervisorHandover.take(from: given + hidden)
        #expect(arguments == given)
        let read = try #require(taken)
        #expect(read.pidFile == nil)
        #expect(read.fallbackReason == "bad")
        #expect(read.arguments == hidden)
    }

    @Test func anythingElseIsLeftAsGiven() {
        for last in [
            "--swiftcarp-supervise=5,6,7", "--swiftcarp-supervise=1,6,-1,8", "--swiftcarp-supervise=5,6,-1,2",
            "--swiftcarp-resume=5,6,7,8,-1", "-z",
        ] {
            let (arguments, taken) = SupervisorHandover.take(from: given + [Array(last.utf8)])
            #expect(arguments == given + [Array(last.utf8)])
            #expect(taken == nil)
        }
    }
}
