import CARPCore
import CARPInstance
import SystemPackage
import Testing

@testable import CARPDaemon

/// One reader of the state handed across `execve` for the worker and the supervisor alike: the
/// memfd read whole and decoded as its ``TextSnapshot``, a failure naming that state, and the
/// old binary not taken back twice.
@Suite struct ReexecutionHandoverTests {
    /// A memfd holding `text`, read from its start.
    static func memory(_ text: String) throws -> FileDescriptor {
        let memory = try System.memoryFile(named: "swiftcarp-test-state")
        try System.write(Array(text.utf8), to: memory, subject: "the test's state")
        return memory
    }

    static let supervisorState = SupervisorStateMachine.Snapshot(
        worker: 4242, role: .master, children: [4243], deaths: [MonotonicInstant(nanoseconds: 7)], shutdown: false,
        pending: [0x4D])

    static func supervising(_ state: FileDescriptor, fallbackReason: String? = nil) -> SupervisorHandover {
        SupervisorHandover(
            state: state, reports: FileDescriptor(rawValue: 6), pidFile: nil, oldProgram: FileDescriptor(rawValue: 8),
            fallbackReason: fallbackReason)
    }

    static func resuming(_ state: FileDescriptor, fallbackReason: String? = nil) -> ResumeHandover {
        ResumeHandover(
            state: state, listener: FileDescriptor(rawValue: 6), client: FileDescriptor(rawValue: 7),
            oldProgram: FileDescriptor(rawValue: 8), supervisor: nil, fallbackReason: fallbackReason)
    }

    @Test func theSupervisorsStateIsReadBackFromItsMemfd() throws {
        let memory = try Self.memory(Self.supervisorState.encoded)
        defer { System.release(memory) }
        #expect(try Self.supervising(memory).snapshot() == Self.supervisorState)
    }

    @Test func aStateOfTheOtherKindIsRefusedNamingWhichStateItIsNot() throws {
        let memory = try Self.memory(Self.supervisorState.encoded)
        defer { System.release(memory) }
        do {
            _ = try Self.resuming(memory).snapshot()
            Issue.record("a supervisor's state read as an instance's")
        } catch {
            #expect(error.message == "the state handed over is not a SwiftCARP state (no swiftcarp-state line)")
        }
        let garbage = try Self.memory("nonsense\n")
        defer { System.release(garbage) }
        do {
            _ = try Self.supervising(garbage).snapshot()
            Issue.record("nonsense read as a supervisor's state")
        } catch {
            #expect(
                error.message
                    == "the supervisor's state handed over is not a SwiftCARP state (no swiftcarp-supervisor line)")
        }
    }

    @Test func theOldBinaryTakenBackIsNotTakenBackAgain() {
        let state = FileDescriptor(rawValue: 5)
        #expect(
            Self.resuming(state, fallbackReason: "first").fallBack(program: [], arguments: [], reason: "again").message
                == "the old binary could not carry on either: again")
        #expect(
            Self.supervising(state, fallbackReason: "first").fallBack(program: [], arguments: [], reason: "again")
                .message == "the old binary could not carry on as the supervisor either: again")
        #expect(
            Self.resuming(state).fallingBack(because: "no state").arguments.last
                == Array("--swiftcarp-fallback=no state".utf8))
        #expect(
            Self.supervising(state).fallingBack(because: "bad").arguments.last
                == Array("--swiftcarp-supervise-fallback=bad".utf8))
    }
}
