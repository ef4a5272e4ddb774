import CARPCore
import Testing

@testable import CARPInstance

/// The supervision a re-executed supervisor hands across, and when it re-executes.
@Suite struct SupervisorReexecutionTests {
    /// A supervision whose worker runs as pid 100, MASTER with one script running.
    private func running(shutdown: Bool = false) -> SupervisorStateMachine {
        var supervision = SupervisorStateMachine(shutdown: shutdown)
        _ = supervision.started(at: t0)
        supervision.workerStarted(pid: 100, at: t0)
        supervision.received(.role(.master))
        supervision.received(.children([200]))
        return supervision
    }

    @Test func theWorkersReloadReportIsALineOfItsOwn() {
        #expect(SupervisorStateMachine.Report.reloaded.line == "RELOADED\n")
        var buffer = Array("ROLE MASTER\nRELOADED\nRELOADED extra\nCHIL".utf8)
        #expect(SupervisorStateMachine.Report.take(from: &buffer) == [.role(.master), .reloaded])
        #expect(buffer == Array("CHIL".utf8))
    }

    @Test func aReloadedWorkerMakesTheSupervisorReexecuteOnceTheTurnIsOver() {
        var supervision = running()
        #expect(supervision.settled(at: t0) == [])
        supervision.received(.reloaded)
        #expect(supervision.settled(at: t0 + .seconds(1)) == [.reexecute])
        #expect(supervision.settled(at: t0 + .seconds(1)) == [])
    }

    @Test func aWorkerThatDiedInTheSameTurnIsCleanedUpNotLeftToTheNextImage() {
        var supervision = running()
        supervision.received(.reloaded)
        let actions = supervision.workerEnded(.killed(signal: 9), at: t0 + .seconds(1))
        #expect(actions.contains(.sendLeavingAdvertisement))
        #expect(supervision.settled(at: t0 + .seconds(1)) == [])
        #expect(supervision.snapshot(pending: []) == nil)
    }

    @Test func aStoppingWorkerIsNotReexecutedFor() {
        var supervision = running()
        #expect(supervision.received(signal: .terminate, at: t0) == [.forward(.terminate)])
        supervision.received(.reloaded)
        #expect(supervision.settled(at: t0) == [])
        #expect(supervision.snapshot(pending: []) == nil)
    }

    @Test func theSnapshotIsEncodedAndReadBack() throws {
        var supervision = running(shutdown: true)
        // One death already in the window, the worker restarted since.
        _ = supervision.workerEnded(.killed(signal: 9), at: t0 + .seconds(5))
        _ = supervision.timePassed(at: t0 + .seconds(6))
        supervision.workerStarted(pid: 300, at: t0 + .seconds(6))
        supervision.received(.role(.backup))
        supervision.received(.children([301, 302]))
        let snapshot = try #require(supervision.snapshot(pending: Array("ROLE MA".utf8)))
        #expect(
            snapshot.encoded == """
                swiftcarp-supervisor 1
                worker=300
                role=BACKUP
                children=301,302
                deaths=\((t0 + .seconds(5)).nanoseconds)
                shutdown=true
                pending=52,4f,4c,45,20,4d,41

                """)
        let read = try SupervisorStateMachine.Snapshot(decoding: snapshot.encoded)
        #expect(read == snapshot)
        #expect(read.pending == Array("ROLE MA".utf8))
    }

    @Test func theResumedSupervisionCarriesOnWhereTheOldOneWas() {
        var old = running()
        _ = old.workerEnded(.exited(134), at: t0 + .seconds(1))
        _ = old.timePassed(at: t0 + .seconds(2))
        old.workerStarted(pid: 400, at: t0 + .seconds(2))
        old.received(.role(.master))
        guard let snapshot = old.snapshot(pending: []) else {
            Issue.record("no snapshot of a running worker")
            return
        }
        var resumed = SupervisorStateMachine(resuming: snapshot)
        #expect(resumed.phase == .running(pid: 400))
        // A death while the new image started is collected first.
        #expect(resumed.resumed(at: t0 + .seconds(3)).contains(.reap))
        // The second death in the window waits two seconds, as it would have without the re-execution.
        let actions = resumed.workerEnded(.killed(signal: 9), at: t0 + .seconds(3))
        #expect(actions.contains(.sendLeavingAdvertisement))
        #expect(actions.contains(.recordStopped(previous: .master)))
        #expect(resumed.nextDeadline == t0 + .seconds(5))
    }

    @Test func aSnapshotThatCannotBeReadSaysWhy() {
        typealias Snapshot = SupervisorStateMachine.Snapshot
        let good = "swiftcarp-supervisor 1\nworker=7\nrole=MASTER\nchildren=\ndeaths=\nshutdown=false\npending=\n"
        #expect(throws: Snapshot.DecodingError.notASnapshot) { try Snapshot(decoding: "swiftcarp-state 1\n") }
        #expect(throws: Snapshot.DecodingError.unknownVersion("2")) {
            try Snapshot(decoding: good.replacing("supervisor 1", with: "supervisor 2"))
        }
        #expect(throws: Snapshot.DecodingError.missing("worker")) {
            try Snapshot(decoding: good.replacing("worker=7\n", with: ""))
        }
        #expect(throws: Snapshot.DecodingError.badValue(key: "worker", value: "0")) {
            try Snapshot(decoding: good.replacing("worker=7", with: "worker=0"))
        }
        #expect(throws: Snapshot.DecodingError.badValue(key: "role", value: "BOSS")) {
            try Snapshot(decoding: good.replacing("MASTER", with: "BOSS"))
        }
        #expect(throws: Snapshot.DecodingError.badValue(key: "children", value: "1,x")) {
            try Snapshot(decoding: good.replacing("children=", with: "children=1,x"))
        }
        #expect(throws: Snapshot.DecodingError.badValue(key: "pending", value: "zz")) {
            try Snapshot(decoding: good.replacing("pending=", with: "pending=zz"))
        }
        #expect(throws: Never.self) { try Snapshot(decoding: good) }
    }

    @Test func aSnapshotErrorNamesTheStateItIsAbout() {
        #expect(
            SupervisorStateMachine.Snapshot.DecodingError.notASnapshot.description
                == "the supervisor's state handed over is not a SwiftCARP state (no swiftcarp-supervisor line)")
        #expect(
            InstanceSnapshot.DecodingError.missing("role").description == "the state handed over has no role")
    }
}
