import CARPCore
import Testing

@testable import CARPInstance

/// A supervision whose worker is running as pid 100, started at `t0`.
private func running(shutdown: Bool = false) -> SupervisorStateMachine {
    var supervision = SupervisorStateMachine(shutdown: shutdown)
    #expect(supervision.started(at: t0) == [.startWorker])
    supervision.workerStarted(pid: 100, at: t0)
    return supervision
}

extension [SupervisorStateMachine.Action] {
    fileprivate var withoutLogs: [SupervisorStateMachine.Action] {
        filter {
            guard case .log = $0 else { return true }
            return false
        }
    }
}

@Suite struct SupervisorStateMachineTests {
    @Test func masterKilledByKillIsCleanedUpAndRestartedAfterASecond() {
        var supervision = running()
        supervision.received(.role(.backup))
        supervision.received(.role(.master))
        let actions = supervision.workerEnded(.killed(signal: 9), at: t0 + .seconds(10))
        #expect(
            actions.withoutLogs == [
                .runDownScript(previous: .master), .sendLeavingAdvertisement, .notifyStop(previous: .master),
                .recordStopped(previous: .master),
            ])
        #expect(
            actions.contains(
                .log(.error, "The instance (pid 100) was killed by signal 9 while MASTER: cleaning up after it")))
        #expect(supervision.nextDeadline == t0 + .seconds(11))
        #expect(supervision.timePassed(at: t0 + .seconds(10) + .milliseconds(999)) == [])
        #expect(supervision.timePassed(at: t0 + .seconds(11)).withoutLogs == [.startWorker])
    }

    @Test func backupThatCrashesNeedsNoScriptNorAdvertisement() {
        var supervision = running()
        supervision.received(.role(.backup))
        let actions = supervision.workerEnded(.killed(signal: 11), at: t0)
        #expect(actions.withoutLogs == [.notifyStop(previous: .backup), .recordStopped(previous: .backup)])
    }

    @Test func childrenInFlightAreKilledAndTheDownScriptRunsAfterThem() {
        var supervision = running()
        supervision.received(.role(.master))
        supervision.received(.children([200, 201]))
        let actions = supervision.workerEnded(.exited(134), at: t0)
        #expect(
            actions.withoutLogs == [
                .killOrphans([200, 201]), .runDownScript(previous: .master), .sendLeavingAdvertisement,
                .notifyStop(previous: .master), .recordStopped(previous: .master),
            ])
    }

    @Test func aDownScriptInFlightWhileBackupIsRunAgain() {
        var supervision = running()
        supervision.received(.role(.backup))
        supervision.received(.children([300]))
        let actions = supervision.workerEnded(.killed(signal: 9), at: t0)
        #expect(
            actions.withoutLogs == [
                .killOrphans([300]), .runDownScript(previous: .backup), .notifyStop(previous: .backup),
                .recordStopped(previous: .backup),
            ])
    }

    @Test func documentedExitsAreTheSupervisorsOwnWithoutCleanUp() {
        for code: Int32 in 0...3 {
            var supervision = running()
            supervision.received(.role(.master))
            #expect(supervision.workerEnded(.exited(code), at: t0) == [.exit(ExitStatus(rawValue: code)!)])
            #expect(supervision.phase == .finished)
        }
    }

    @Test func terminationSignalsLeaveTheAddressAsUcarpDoes() {
        for signal in [Instance.Signal.hangUp, .interrupt, .quit, .terminate] {
            var supervision = running()
            supervision.received(.role(.master))
            #expect(supervision.workerEnded(.killed(signal: signal.rawValue), at: t0) == [.dieOf(signal)])
        }
    }

    @Test func signalsArePassedOnToTheWorker() {
        var supervision = running()
        for signal in [Instance.Signal.user1, .user2, .terminate] {
            #expect(supervision.received(signal: signal, at: t0) == [.forward(signal)])
        }
        #expect(supervision.received(signal: .child, at: t0) == [.reap])
    }

    @Test func deathAfterAForwardedTerminationIsNotRestarted() {
        var supervision = running()
        supervision.received(.role(.master))
        _ = supervision.received(signal: .terminate, at: t0)
        let actions = supervision.workerEnded(.killed(signal: 9), at: t0)
        #expect(actions.withoutLogs.last == .exit(.runtimeFailure))
        #expect(actions.withoutLogs.contains(.runDownScript(previous: .master)))
        #expect(supervision.nextDeadline == nil)
    }

    @Test func backOffDoublesWithEachDeathInTheWindow() {
        var supervision = running()
        var now = t0
        var delays: [UInt64] = []
        for _ in 1...4 {
            _ = supervision.workerEnded(.killed(signal: 9), at: now)
            guard let deadline = supervision.nextDeadline else {
                Issue.record("no restart scheduled")
                return
            }
            delays.append(deadline.duration(since: now).nanoseconds / 1_000_000_000)
            now = deadline
            #expect(supervision.timePassed(at: now).withoutLogs == [.startWorker])
            supervision.workerStarted(pid: 100, at: now)
        }
        #expect(delays == [1, 2, 4, 8])
    }

    @Test func theFifthDeathInAMinuteGivesUp() {
        var supervision = running()
        var now = t0
        for _ in 1...4 {
            _ = supervision.workerEnded(.killed(signal: 11), at: now)
            now = supervision.nextDeadline!
            _ = supervision.timePassed(at: now)
            supervision.workerStarted(pid: 100, at: now)
        }
        supervision.received(.role(.master))
        let actions = supervision.workerEnded(.killed(signal: 11), at: now)
        #expect(
            actions.withoutLogs == [
                .runDownScript(previous: .master), .sendLeavingAdvertisement, .notifyStop(previous: .master),
                .recordStopped(previous: .master),
                .exit(.gaveUp),
            ])
        #expect(actions.contains(.log(.error, "The instance died 5 times in 60 s: giving up")))
        #expect(supervision.phase == .finished)
    }

    @Test func deathsOlderThanTheWindowAreForgotten() {
        var supervision = running()
        var now = t0
        for _ in 1...10 {
            _ = supervision.workerEnded(.killed(signal: 9), at: now)
            #expect(supervision.phase != .finished)
            now = supervision.nextDeadline! + .seconds(30)
            _ = supervision.timePassed(at: now)
            supervision.workerStarted(pid: 100, at: now)
        }
        #expect(supervision.deaths.count <= 2)
    }

    @Test func aRestartedWorkerStartsAsInitWithNoChildren() {
        var supervision = running()
        supervision.received(.role(.master))
        supervision.received(.children([5]))
        _ = supervision.workerEnded(.killed(signal: 9), at: t0)
        _ = supervision.timePassed(at: t0 + .seconds(1))
        supervision.workerStarted(pid: 101, at: t0 + .seconds(1))
        #expect(supervision.role == .initial)
        #expect(supervision.children.isEmpty)
        #expect(
            supervision.workerEnded(.killed(signal: 9), at: t0 + .seconds(2)).withoutLogs == [
                .recordStopped(previous: .initial)
            ])
    }

    @Test func terminationDuringTheBackOffEndsTheSupervisor() {
        var supervision = running(shutdown: true)
        _ = supervision.workerEnded(.killed(signal: 9), at: t0)
        #expect(supervision.received(signal: .user1, at: t0).withoutLogs == [])
        #expect(supervision.received(signal: .terminate, at: t0) == [.exit(.success)])
        var plain = running(shutdown: false)
        _ = plain.workerEnded(.killed(signal: 9), at: t0)
        #expect(plain.received(signal: .terminate, at: t0) == [.dieOf(.terminate)])
        #expect(plain.timePassed(at: t0 + .seconds(5)) == [])
    }

    @Test func reportsRoundTripAndPartialLinesWait() {
        var buffer = Array(
            (SupervisorStateMachine.Report.role(.master).line + SupervisorStateMachine.Report.children([12, 34]).line
                + "CHILD").utf8)
        #expect(SupervisorStateMachine.Report.take(from: &buffer) == [.role(.master), .children([12, 34])])
        #expect(buffer == Array("CHILD".utf8))
        buffer += Array("REN\n".utf8)
        #expect(SupervisorStateMachine.Report.take(from: &buffer) == [.children([])])
    }

    @Test func malformedReportsAreIgnored() {
        for line in ["", "ROLE", "ROLE A B", "CHILDREN x", "CHILDREN -1", "HELLO"] {
            #expect(SupervisorStateMachine.Report(line: line[...]) == nil)
        }
    }
}
