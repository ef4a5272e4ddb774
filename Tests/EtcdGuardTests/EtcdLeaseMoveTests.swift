import CARPCore
import Testing

@testable import EtcdGuard

/// A move on virtual time, answered with etcd's captured bodies.
private struct MoveHarness {
    typealias Action = EtcdLeaseMove.Action

    var move: EtcdLeaseMove
    var now = MonotonicInstant.seconds(100)
    var log: [Action] = []

    init(
        value: String = "192.0.2.2 hostB", currentLease: Int64? = 8_061_340_188_859_377_669, endpoints: Int = 1,
        credentials: EtcdLeaseGuard.Credentials? = nil
    ) {
        move = EtcdLeaseMove(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: value, ttl: 3, credentials: credentials,
                endpointCount: endpoints, currentLease: currentLease, bound: .seconds(3)),
            at: now)
        log += move.start(at: now)
    }

    var inFlight: EtcdLeaseGuard.Request? { move.inFlight?.request }

    var ended: [EtcdLeaseMove.Outcome] {
        log.compactMap { if case .ended(let outcome) = $0 { outcome } else { nil } }
    }

    mutating func advance(by seconds: Double) {
        now = now + .nanoseconds(UInt64(seconds * 1e9))
    }

    mutating func answer(_ answer: (Int, String), after delay: Double = 0.01) {
        advance(by: delay)
        guard let request = inFlight else {
            Issue.record("nothing in flight to answer")
            return
        }
        log += move.received(status: answer.0, body: Array(answer.1.utf8), for: request.id, at: now)
    }

    mutating func fail(after delay: Double = 0.01) {
        advance(by: delay)
        guard let request = inFlight else {
            Issue.record("nothing in flight to fail")
            return
        }
        log += move.failed(requestID: request.id, reason: "Connection refused", at: now)
    }

    /// Lets virtual time run to `until`, waking at each deadline.
    mutating func run(until end: MonotonicInstant) {
        while let next = move.nextDeadline, next <= end {
            now = max(now, next)
            log += move.deadlinePassed(at: now)
        }
        now = max(now, end)
    }
}

@Suite struct EtcdLeaseMoveTests {
    @Test func aFreeKeyIsTakenUnderANewLeaseThatIsThenKeptRenewed() throws {
        var harness = MoveHarness()
        #expect(harness.inFlight?.call == .read(key: "/swiftcarp/7/192.0.2.100"))
        #expect(harness.inFlight.map { EtcdLeaseMove.owns($0.id) } == true)
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        #expect(harness.inFlight?.call == .grant(ttl: 3))
        harness.answer(CapturedEtcdAnswers.grant)
        #expect(
            harness.inFlight?.call
                == .acquire(key: "/swiftcarp/7/192.0.2.100", value: "192.0.2.2 hostB", lease: 8_061_340_188_859_377_669)
        )
        harness.answer(CapturedEtcdAnswers.txnSucceeded)
        let lease = try #require(harness.move.heldLease)
        #expect(lease.id == 8_061_340_188_859_377_669)
        #expect(harness.ended == [.moved(lease)])
        #expect(harness.inFlight == nil)
        // Not handed over yet: renewed a third of the TTL after the grant was sent.
        harness.run(until: lease.nextRenewal)
        #expect(harness.inFlight?.call == .keepAlive(lease: lease.id))
        harness.answer(CapturedEtcdAnswers.keepAliveAlive)
        #expect(try #require(harness.move.heldLease).confirmedSend > lease.confirmedSend)
        #expect(harness.ended.count == 1)
    }

    @Test func aKeyHeldByAnotherHostRefusesTheMoveNamingIt() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeHeld)
        #expect(
            harness.ended == [
                .refused(
                    "etcd: the key /swiftcarp/7/192.0.2.100 is held by 192.0.2.1 hostA (lease 3777009571123792645) at the new endpoints"
                )
            ])
        #expect(harness.inFlight == nil)
        #expect(harness.move.nextDeadline == nil)
    }

    @Test func aKeyTakenBetweenTheReadAndTheTransactionRevokesTheNewLease() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        #expect(harness.ended.isEmpty)
        #expect(harness.inFlight?.call == .revoke(lease: 8_061_340_188_859_377_672))
        harness.answer(CapturedEtcdAnswers.revoked)
        #expect(harness.ended.count == 1)
        guard case .refused(let line)? = harness.ended.first else {
            Issue.record("not refused")
            return
        }
        #expect(line.contains("held by 192.0.2.1 hostA"))
    }

    @Test func aKeyFoundBoundToTheMovesOwnNewLeaseIsTaken() throws {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grant)
        // A retried put whose first try was applied: the holder's lease is the new lease.
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        let lease = try #require(harness.move.heldLease)
        #expect(lease.id == 8_061_340_188_859_377_669)
        #expect(harness.ended == [.moved(lease)])
        #expect(harness.inFlight == nil)
    }

    @Test func aKeyDeletedBetweenTheCompareAndTheReadIsTriedAgain() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grant)
        harness.answer(
            (
                200,
                #"{"header":{"revision":"3"},"responses":[{"response_range":{"header":{"revision":"3"}}}]}"#
            ))
        #expect(harness.ended.isEmpty)
        harness.run(until: harness.now)
        #expect(
            harness.inFlight?.call
                == .acquire(key: "/swiftcarp/7/192.0.2.100", value: "192.0.2.2 hostB", lease: 8_061_340_188_859_377_669)
        )
    }

    @Test func theSameClusterReachedByOtherEndpointsKeepsTheLeaseWithoutASecondOne() {
        var harness = MoveHarness(value: "192.0.2.1 hostA", currentLease: 3_777_009_571_123_792_645)
        harness.answer(CapturedEtcdAnswers.rangeHeld)
        #expect(harness.ended == [.kept(lease: 3_777_009_571_123_792_645)])
        #expect(!harness.log.contains { if case .send(let r) = $0 { r.call == .grant(ttl: 3) } else { false } })
    }

    @Test func ourValueUnderAnotherLeaseIsNotTakenForOurs() {
        var harness = MoveHarness(value: "192.0.2.1 hostA", currentLease: 42)
        harness.answer(CapturedEtcdAnswers.rangeHeld)
        guard case .refused? = harness.ended.first else {
            Issue.record("a lease that is not the one held now was adopted")
            return
        }
    }

    @Test func silentNewEndpointsRefuseTheMoveAtTheBoundAfterTryingEachEndpoint() {
        var harness = MoveHarness(endpoints: 2)
        harness.run(until: harness.now + .seconds(5))
        let endpoints = Set(harness.log.compactMap { if case .send(let r) = $0 { r.endpoint } else { nil } })
        #expect(endpoints == [0, 1])
        #expect(harness.ended.count == 1)
        guard case .refused(let line)? = harness.ended.first else {
            Issue.record("not refused")
            return
        }
        #expect(line.hasPrefix("etcd: the new endpoints did not answer within 3 s"))
        #expect(harness.inFlight == nil)
        #expect(harness.move.nextDeadline == nil)
    }

    @Test func etcdDyingAfterTheGrantRevokesTheLeaseAndRefusesAtTheLeaseDeadline() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grant)
        // Every acquire fails from now on.
        while harness.ended.isEmpty, harness.now < .seconds(110) {
            if harness.inFlight != nil {
                harness.fail()
            } else {
                harness.run(until: harness.move.nextDeadline ?? harness.now)
            }
        }
        #expect(harness.ended.count == 1)
        let revokes = harness.log.filter {
            if case .send(let r) = $0 { r.call == .revoke(lease: 8_061_340_188_859_377_669) } else { false }
        }
        #expect(revokes.count == 1)
        // The new lease is never handed over past its deadline.
        #expect(harness.now < .seconds(100) + .milliseconds(3500))
    }

    @Test func aMovedLeaseThatStopsBeingRenewedEndsTheMoveRefused() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grant)
        harness.answer(CapturedEtcdAnswers.txnSucceeded)
        while harness.ended.count < 2, harness.now < .seconds(110) {
            if harness.inFlight != nil {
                harness.fail()
            } else {
                harness.run(until: harness.move.nextDeadline ?? harness.now)
            }
        }
        #expect(harness.ended.count == 2)
        #expect(harness.move.heldLease == nil)
        guard case .refused(let line)? = harness.ended.last else {
            Issue.record("not refused")
            return
        }
        #expect(line.contains("was not renewed in time"))
    }

    @Test func abandoningAfterTheGrantRevokesTheNewLease() {
        var harness = MoveHarness()
        harness.answer(CapturedEtcdAnswers.rangeAbsent)
        harness.answer(CapturedEtcdAnswers.grant)
        let acquire = harness.inFlight
        harness.log += harness.move.abandon("the instance left MASTER", at: harness.now)
        #expect(acquire.map { harness.log.contains(.cancel(requestID: $0.id)) } == true)
        harness.run(until: harness.now)
        #expect(harness.inFlight?.call == .revoke(lease: 8_061_340_188_859_377_669))
        harness.answer(CapturedEtcdAnswers.revoked)
        #expect(harness.ended == [.refused("the instance left MASTER")])
    }

    @Test func abandoningBeforeAnyLeaseEndsAtOnce() {
        var harness = MoveHarness()
        harness.log += harness.move.abandon("the instance is leaving", at: harness.now)
        #expect(harness.ended == [.refused("the instance is leaving")])
        #expect(harness.move.nextDeadline == nil)
    }

    @Test func credentialsAuthenticateAtTheNewEndpointsFirst() {
        var harness = MoveHarness(credentials: .init(user: "carp", password: "secret"))
        #expect(harness.inFlight?.call == .authenticate(user: "carp", password: "secret"))
        harness.answer(CapturedEtcdAnswers.authenticated)
        #expect(harness.inFlight?.call == .read(key: "/swiftcarp/7/192.0.2.100"))
        #expect(harness.inFlight?.token == "YZHecRONpzJBnEKG.27")
    }
}
