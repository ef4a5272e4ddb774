import CARPCore
import Testing

@testable import CARPInstance

/// What the sentinel of a foreground instance does when its pipe ends, given what the daemon
/// told it (issue 27: a killed foreground daemon leaves no address).
@Suite struct SentinelStateMachineTests {
    /// A sentinel told these lines, as the daemon writes them.
    private func told(_ lines: String, strict: Bool = false) -> SentinelStateMachine {
        var sentinel = SentinelStateMachine(daemon: 100, strict: strict)
        var buffer = Array(lines.utf8)
        for report in SupervisorStateMachine.Report.take(from: &buffer) { sentinel.received(report) }
        return sentinel
    }

    @Test func aMasterKilledIsCleanedUpAsTheSupervisorCleansUpAfterItsWorker() {
        let actions = told("ROLE BACKUP\nROLE MASTER\n").daemonEnded()
        #expect(
            actions.dropFirst() == [
                .runDownScript(previous: .master), .sendLeavingAdvertisement, .notifyStop(previous: .master),
                .recordStopped(previous: .master),
            ])
        #expect(
            actions.first
                == .log(
                    .error, "The instance (pid 100) died while MASTER without leaving: the sentinel cleans up after it")
        )
        #expect(Array(actions.dropFirst()) == SupervisorStateMachine.cleanUp(role: .master, children: []))
    }

    /// Under --auth=strict a successor may already have taken the next epoch from the shared
    /// --auth-state: a leaving advert of a new epoch of the sentinel's would rank above its
    /// adverts. Without a counter told by the daemon, none is sent.
    @Test func underStrictAKilledMasterIsCleanedUpWithoutALeavingAdvertisement() {
        let actions = told("ROLE MASTER\n", strict: true).daemonEnded()
        #expect(!actions.contains(.sendLeavingAdvertisement))
        #expect(
            actions.filter { if case .log = $0 { false } else { true } } == [
                .runDownScript(previous: .master), .notifyStop(previous: .master), .recordStopped(previous: .master),
            ])
        #expect(
            actions.contains { if case .log(.info, let text) = $0 { text.contains("--auth=strict") } else { false } })
        #expect(told("ROLE BACKUP\n", strict: true).daemonEnded() == told("ROLE BACKUP\n").daemonEnded())
    }

    @Test func aBackupKilledSendsNoLeavingAdvertisementAndRunsNoDownScript() {
        #expect(
            told("ROLE BACKUP\n").daemonEnded().dropFirst() == [
                .notifyStop(previous: .backup), .recordStopped(previous: .backup),
            ])
    }

    @Test func theScriptsInFlightAreKilledFirstAndTheDownScriptRunsAfterThem() {
        let actions = told("ROLE MASTER\nCHILDREN 200 201\n").daemonEnded()
        #expect(actions.dropFirst().first == .killOrphans([200, 201]))
        #expect(actions.contains(.runDownScript(previous: .master)))
        // The scripts ended before the death: nothing of theirs to kill.
        #expect(!told("ROLE MASTER\nCHILDREN 200\nCHILDREN\n").daemonEnded().contains(.killOrphans([200])))
    }

    @Test func aDaemonThatSaidItWasLeavingIsLeftAlone() {
        #expect(told("ROLE MASTER\nROLE BACKUP\nLEAVING\n").daemonEnded() == [])
        // ucarp leaves the address to a TERM without --shutdown: the daemon's choice, not a death.
        #expect(told("ROLE MASTER\nLEAVING\n").daemonEnded() == [])
    }

    @Test func aDaemonThatNeverTookARoleOrHadStoppedLeavesNothing() {
        #expect(told("").daemonEnded() == [])
        #expect(told("ROLE INIT\n").daemonEnded() == [])
        #expect(told("ROLE MASTER\nROLE STOPPED\n").daemonEnded() == [])
    }

    @Test func aReloadChangesNothingAndAnIncompleteLastLineIsNotRead() {
        #expect(told("ROLE MASTER\nRELOADED\n").daemonEnded().contains(.sendLeavingAdvertisement))
        // A daemon killed in the middle of writing LEAVING did not finish leaving.
        #expect(told("ROLE MASTER\nLEAV").daemonEnded().contains(.sendLeavingAdvertisement))
    }

    /// The daemon told a counter of its own epoch, above every advert it sent: the sentinel's
    /// leaving advert is accepted by the backups, and ranks below any successor's (a later epoch).
    @Test func underStrictAMasterThatToldALeavingCounterIsCleanedUpWithALeavingAdvertisement() {
        let sentinel = told("ROLE MASTER\nLEAVING-COUNTER 8589999999\n", strict: true)
        #expect(sentinel.leavingCounter == 8_589_999_999)
        #expect(
            Array(sentinel.daemonEnded().dropFirst()) == SupervisorStateMachine.cleanUp(role: .master, children: []))
        // A later line replaces it.
        #expect(told("LEAVING-COUNTER 5\nLEAVING-COUNTER 7\n", strict: true).leavingCounter == 7)
        // A malformed one is not read.
        #expect(told("LEAVING-COUNTER -1\nLEAVING-COUNTER x\n", strict: true).leavingCounter == nil)
    }

    /// Told rarely: once the one told is no more than half the lead ahead of the counter sent.
    @Test func theLeavingCounterIsToldAheadAndRenewedOnlyAtHalfTheLead() {
        let lead = SentinelStateMachine.leavingCounterLead
        let first = UInt64(1_765_000_000) << 32
        #expect(SentinelStateMachine.leavingCounter(beforeSending: first, told: nil) == first + lead)
        #expect(SentinelStateMachine.leavingCounter(beforeSending: first + 1, told: first + lead) == nil)
        #expect(SentinelStateMachine.leavingCounter(beforeSending: first + lead / 2 - 1, told: first + lead) == nil)
        #expect(
            SentinelStateMachine.leavingCounter(beforeSending: first + lead / 2, told: first + lead)
                == first + lead / 2 + lead)
        // One told that is not above the counter (a reload's successor told none) is renewed.
        #expect(SentinelStateMachine.leavingCounter(beforeSending: first + 9, told: first + 9) == first + 9 + lead)
    }

    /// A successor starts at the next epoch's first counter at the earliest: the leaving
    /// counter stays below it.
    @Test func theLeavingCounterStaysWithinTheEpochOfTheCounterSent() {
        let next = UInt64(1_765_000_001) << 32
        #expect(SentinelStateMachine.leavingCounter(beforeSending: next - 10, told: nil) == next - 1)
        #expect(SentinelStateMachine.leavingCounter(beforeSending: next - 1, told: nil) == next)
    }

    /// One told beyond the epoch of the counter sent (a random ucarp counter carried over a
    /// reload to strict mode, say) is not kept: peers would take it as this source's highest,
    /// above any successor's, and drop the successor's adverts until that epoch came.
    @Test func aLeavingCounterToldBeyondTheEpochOfTheCounterSentIsReplaced() {
        let first = UInt64(1_765_000_000) << 32
        let randomUcarpCounter = UInt64(0xF00D_0000_1234_5678)
        #expect(
            SentinelStateMachine.leavingCounter(beforeSending: first, told: randomUcarpCounter)
                == first + SentinelStateMachine.leavingCounterLead)
        #expect(SentinelStateMachine.leavingCounter(beforeSending: first, told: (first | 0xFFFF_FFFF) + 1) != nil)
    }

    @Test func theLeavingCounterLineReadsBackAsWritten() {
        var buffer = Array(SupervisorStateMachine.Report.leavingCounter(UInt64.max).line.utf8)
        #expect(SupervisorStateMachine.Report.take(from: &buffer) == [.leavingCounter(.max)])
    }

    @Test func theLeavingLineReadsBackAsWritten() {
        var buffer = Array(SupervisorStateMachine.Report.leaving.line.utf8)
        #expect(SupervisorStateMachine.Report.take(from: &buffer) == [.leaving])
        #expect(buffer.isEmpty)
    }
}
