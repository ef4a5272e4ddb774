import CARPCore
import Testing

@testable import EtcdGuard

/// One timing rule for the guard and a reload's move: a sixth of the TTL as margin and call
/// timeout, our own deadline TTL minus margin after the confirmed send, renewals every third.
@Suite struct EtcdLeaseTimingTests {
    @Test func aSixthOfTheTTLIsTheMarginAndTheTimeoutOfTheGuardAndTheMoveAlike() {
        #expect(EtcdLeaseTiming.sixth(ofTTL: 3) == .milliseconds(500))
        for ttl: Int64 in [2, 3, 7, 60] {
            let guardian = EtcdLeaseGuard.Configuration(key: "/k", value: "v", ttl: ttl, retryInterval: .seconds(1))
            let move = EtcdLeaseMove.Configuration(
                key: "/k", value: "v", ttl: ttl, endpointCount: 1, currentLease: nil, bound: .seconds(3))
            #expect(move.margin == guardian.margin)
            #expect(move.requestTimeout == guardian.requestTimeout)
            #expect(guardian.margin == EtcdLeaseTiming.sixth(ofTTL: ttl))
        }
    }

    @Test func theDeadlineIsTheTTLLessTheMarginAfterTheConfirmedSendNeverBeforeIt() {
        let sent = MonotonicInstant(nanoseconds: 10_000_000_000)
        #expect(
            EtcdLeaseTiming.deadline(confirmedSend: sent, ttl: .seconds(3), margin: .milliseconds(500))
                == sent + .milliseconds(2500))
        #expect(EtcdLeaseTiming.deadline(confirmedSend: sent, ttl: .seconds(1), margin: .seconds(2)) == sent)
        #expect(EtcdLeaseTiming.renewalInterval(of: .seconds(3)) == .seconds(1))
    }
}
