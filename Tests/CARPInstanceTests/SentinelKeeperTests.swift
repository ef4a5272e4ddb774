import CARPCore
import Testing

@testable import CARPInstance

/// When a foreground daemon starts a fresh sentinel: after a reload, and when its sentinel
/// died or stopped reading, until fresh ones keep dying young.
@Suite struct SentinelKeeperTests {
    private let t0 = MonotonicInstant(nanoseconds: 1_000_000_000_000)

    private func at(_ seconds: UInt64) -> MonotonicInstant { t0 + .seconds(seconds) }

    @Test func aReloadRetiresTheOldSentinelWithLeavingQuietly() {
        var keeper = SentinelKeeper()
        keeper.started(at: t0)
        #expect(keeper.lost(.reloaded, pid: 50, at: at(1)) == .replace(.leaving, warning: nil))
    }

    @Test func aSentinelThatEndedIsReplacedWithAWarning() {
        var keeper = SentinelKeeper()
        keeper.started(at: t0)
        #expect(
            keeper.lost(.ended, pid: 50, at: at(60))
                == .replace(.killed, warning: "The sentinel (pid 50) ended: a fresh one is started"))
    }

    /// A stopped sentinel would wake to the pipe's end without LEAVING: it is killed first.
    @Test func aSentinelThatDoesNotReadIsKilledAndReplaced() {
        var keeper = SentinelKeeper()
        keeper.started(at: t0)
        #expect(
            keeper.lost(.stuck, pid: 50, at: at(60))
                == .replace(
                    .killed, warning: "The sentinel (pid 50) does not read its pipe: killed: a fresh one is started"))
    }

    /// A fresh sentinel that cannot start (its command line no longer reads) would otherwise be
    /// started again at every death.
    @Test func freshSentinelsDyingYoungAreGivenUpOnTheThird() {
        var keeper = SentinelKeeper()
        keeper.started(at: t0)
        #expect(
            keeper.lost(.ended, pid: 50, at: at(1))
                == .replace(.killed, warning: "The sentinel (pid 50) ended: a fresh one is started"))
        keeper.started(at: at(1))
        #expect(
            keeper.lost(.ended, pid: 51, at: at(2))
                == .replace(.killed, warning: "The sentinel (pid 51) ended: a fresh one is started"))
        keeper.started(at: at(2))
        #expect(
            keeper.lost(.ended, pid: 52, at: at(3))
                == .giveUp(
                    warning:
                        "The sentinel (pid 52) ended; 3 sentinels in a row ended within 5 s of their start: no fresh one, a SIGKILL of this process would leave the address"
                ))
    }

    @Test func aSentinelThatLivedLongStartsTheCountAgain() {
        var keeper = SentinelKeeper()
        keeper.started(at: t0)
        for (index, second) in [1, 2].enumerated() {
            guard case .replace = keeper.lost(.ended, pid: Int32(50 + index), at: at(UInt64(second))) else {
                Issue.record("not replaced")
                return
            }
            keeper.started(at: at(UInt64(second)))
        }
        // The third lived 5 s: not young.
        guard case .replace = keeper.lost(.ended, pid: 52, at: at(7)) else {
            Issue.record("a sentinel that lived 5 s counted as young")
            return
        }
        keeper.started(at: at(7))
        guard case .replace = keeper.lost(.stuck, pid: 53, at: at(8)) else {
            Issue.record("the count did not start again")
            return
        }
    }
}
