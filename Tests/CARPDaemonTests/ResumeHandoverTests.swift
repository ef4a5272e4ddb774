import SystemPackage
import Testing

@testable import CARPDaemon

/// The hidden arguments a re-executed instance finds its predecessor's descriptors by.
@Suite struct ResumeHandoverTests {
    let given = [Array("--config=/etc/ucarp/vip-001.conf".utf8), [0x70, 0xE9]]

    @Test func theHiddenArgumentsAreTakenOffAndReadBack() throws {
        let handover = ResumeHandover(
            state: FileDescriptor(rawValue: 5), listener: FileDescriptor(rawValue: 6),
            client: FileDescriptor(rawValue: 7), oldProgram: FileDescriptor(rawValue: 8), supervisor: nil)
        let (arguments, taken) = ResumeHandover.take(from: given + handover.arguments)
        #expect(arguments == given)
        let read = try #require(taken)
        #expect(read.arguments == handover.arguments)
        #expect(read.supervisor == nil)
        #expect(read.fallbackReason == nil)
        #expect(handover.arguments == [Array("--swiftcarp-resume=5,6,7,8,-1".utf8)])
    }

    @Test func aFallbackCarriesTheReasonAndTheSupervisor() throws {
        let hidden = [Array("--swiftcarp-resume=5,6,7,8,9".utf8), Array("--swiftcarp-fallback=no state".utf8)]
        let (arguments, taken) = ResumeHandover.take(from: given + hidden)
        #expect(arguments == given)
        let read = try #require(taken)
        #expect(read.supervisor == FileDescriptor(rawValue: 9))
        #expect(read.fallbackReason == "no state")
        #expect(read.arguments == hidden)
    }

    @Test func anythingElseIsLeftAsGiven() {
        for last in ["--swiftcarp-resume=5,6,7", "--swiftcarp-resume=1,6,7,8,-1", "--swiftcarp-resume=a,b,c,d,e", "-z"]
        {
            let (arguments, taken) = ResumeHandover.take(from: given + [Array(last.utf8)])
            #expect(arguments == given + [Array(last.utf8)])
            #expect(taken == nil)
        }
    }
}
