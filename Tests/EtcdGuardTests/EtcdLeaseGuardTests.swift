import CARPCore
import Testing

@testable import EtcdGuard

/// A guard on virtual time, answered with etcd's captured bodies.
private struct Harness {
    typealias Action = EtcdLeaseGuard.Action

    var guardian: EtcdLeaseGuard
    var now = MonotonicInstant.seconds(100)
    /// Every action so far, in order.
    var log: [Action] = []

    init(
        value: String = "192.0.2.1 hostA", unreachable: EtcdLeaseGuard.UnreachablePolicy = .release,
        credentials: EtcdLeaseGuard.Credentials? = nil, endpoints: Int = 1, retryInterval: UInt64 = 1
    ) {
        guardian = EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: value, ttl: 3, retryInterval: .seconds(retryInterval),
                unreachable: unreachable, credentials: credentials, endpointCount: endpoints))
    }

    /// The request on the wire, if any.
    var inFlight: EtcdLeaseGuard.Request? { guardian.inFlight?.request }

    @discardableResult
    mutating func record(_ actions: [Action]) -> [Action] {
        log += actions
        return actions
    }

    @discardableResult
    mutating func want() -> [Action] { record(guardian.want(at: now)) }

    @discardableResult
    mutating func stopWanting() -> [Action] { record(guardian.stopWanting(at: now)) }

    /// Answers the request in flight with a captured body after `delay` seconds.
    @discardableResult
    mutating func answer(_ answer: (Int, String), after delay: Double = 0.01) -> [Action] {
        advance(by: delay)
        guard let request = inFlight else {
            Issue.record("nothing in flight to answer")
            return []
        }
        return record(guardian.received(status: answer.0, body: Array(answer.1.utf8), for: request.id, at: now))
    }

    @discardableResult
    mutating func fail(_ reason: String = "Connection refused", after delay: Double = 0.01) -> [Action] {
        advance(by: delay)
        guard let request = inFlight else {
            Issue.record("nothing in flight to fail")
            return []
        }
        return record(guardian.failed(requestID: request.id, reason: reason, at: now))
    }

    /// Lets time pass, firing every deadline on the way, as the poll loop would.
    @discardableResult
    mutating func advance(by seconds: Double) -> [Action] {
        let end = now + .nanoseconds(UInt64(seconds * 1e9))
        var actions: [Action] = []
        while let deadline = guardian.nextDeadline, deadline <= end {
            now = max(now, deadline)
            actions += guardian.deadlinePassed(at: now)
        }
        now = end
        return record(actions)
    }

    /// Grant and take the key: master from here.
    mutating func becomeMaster() {
        want()
        answer(CapturedEtcdAnswers.grant)
        answer(CapturedEtcdAnswers.txnSucceeded)
        precondition(guardian.isMaster)
    }

    /// A master with credentials whose renewal etcd refused for its token.
    static func masterWhoseTokenExpired() -> Harness {
        var harness = Harness(credentials: .init(user: "carp", password: "carppw"))
        harness.want()
        harness.answer(CapturedEtcdAnswers.authenticated)
        harness.answer(CapturedEtcdAnswers.grant)
        harness.answer(CapturedEtcdAnswers.txnSucceeded)
        harness.advance(by: 0.98)
        harness.answer(CapturedEtcdAnswers.invalidToken)
        return harness
    }

    /// Calls sent in `actions`.
    static func calls(_ actions: [Action]) -> [EtcdCall] {
        actions.compactMap { if case .send(let request) = $0 { request.call } else { nil } }
    }

    static func revocations(_ actions: [Action]) -> [EtcdLeaseGuard.LossReason] {
        actions.compactMap { if case .revokeMastership(let reason) = $0 { reason } else { nil } }
    }

    static func grants(_ actions: [Action]) -> [Int64] {
        actions.compactMap { if case .grantMastership(let lease) = $0 { lease } else { nil } }
    }

    static func logs(_ actions: [Action], _ level: CARPStateMachine.LogLevel) -> [String] {
        actions.compactMap { if case .log(level, let text) = $0 { text } else { nil } }
    }
}

extension Harness {
    /// Plays etcd for `seconds`: every request answered 10 ms after it is sent by `etcd`,
    /// every deadline on the way fired. The calls sent, with their send times in seconds.
    mutating func serve(
        for seconds: Double, _ etcd: (EtcdCall, MonotonicInstant) -> (Int, String)
    ) -> [(call: EtcdCall, at: Double)] {
        let end = now + .nanoseconds(UInt64(seconds * 1e9))
        var sent: [(call: EtcdCall, at: Double)] = []
        var lastID: UInt64 = 0
        while now < end {
            if let request = inFlight {
                if request.id != lastID {
                    sent.append((request.call, Double(now.nanoseconds) / 1e9))
                    lastID = request.id
                }
                answer(etcd(request.call, now), after: 0.01)
                continue
            }
            guard let deadline = guardian.nextDeadline, deadline <= end else {
                now = end
                break
            }
            now = max(now, deadline)
            record(guardian.deadlinePassed(at: now))
        }
        return sent
    }
}

private let key = "/swiftcarp/7/192.0.2.100"
private let capturedLease: Int64 = 8_061_340_188_859_377_669
/// The contender's lease (hostB), from the second grant captured.
private let otherLease: Int64 = 8_061_340_188_859_377_672

@Suite struct EtcdLeaseGuardTests {
    @Test func mastershipComesOnlyAfterTheKeyIsTakenInOneTransactionBoundToTheLease() {
        var harness = Harness()
        #expect(Harness.calls(harness.want()) == [.grant(ttl: 3)])
        #expect(Harness.grants(harness.log).isEmpty)
        let afterGrant = harness.answer(CapturedEtcdAnswers.grant)
        #expect(Harness.calls(afterGrant) == [.acquire(key: key, value: "192.0.2.1 hostA", lease: capturedLease)])
        #expect(Harness.grants(harness.log).isEmpty)
        let afterTransaction = harness.answer(CapturedEtcdAnswers.txnSucceeded)
        #expect(Harness.grants(afterTransaction) == [capturedLease])
        #expect(harness.guardian.isMaster)
    }

    @Test func noRequestIsSentUntilMastershipIsWanted() {
        var harness = Harness()
        #expect(harness.guardian.nextDeadline == nil)
        #expect(harness.advance(by: 10).isEmpty)
        #expect(harness.inFlight == nil)
    }

    @Test func aMasterRenewsEveryThirdOfTheTTL() {
        var harness = Harness()
        let grantSent = harness.now
        harness.becomeMaster()
        harness.advance(by: 1 - 0.02 - 0.001)
        #expect(harness.inFlight == nil)
        let renewal = harness.advance(by: 0.002)
        #expect(Harness.calls(renewal) == [.keepAlive(lease: capturedLease)])
        #expect(harness.guardian.inFlight?.sentAt == grantSent + .seconds(1))
        harness.answer(CapturedEtcdAnswers.keepAliveAlive, after: 0.3)
        // The next renewal counts from the send time of the confirmed one, not from its answer.
        #expect(harness.guardian.nextDeadline == grantSent + .seconds(2))
    }

    @Test func theDeadlineIsTheSendTimeOfTheLastConfirmedRenewalPlusTTLMinusMargin() {
        var harness = Harness()
        let grantSent = harness.now
        harness.becomeMaster()
        harness.advance(by: 0.98)  // the keepalive leaves at grantSent + 1 s
        // etcd answers late: it restarted the TTL when it got the call, maybe later still after a
        // leader change; we count from our send time.
        harness.answer(CapturedEtcdAnswers.keepAliveAlive, after: 0.45)
        let lease = harness.guardian.lease
        #expect(lease.map(harness.guardian.deadline(of:)) == grantSent + .seconds(1) + .milliseconds(2500))
    }

    @Test func aTTLLongerThanAskedOrAbsurdNeverPushesTheDeadlinePastOurOwnTTL() {
        var harness = Harness()
        let grantSent = harness.now
        harness.want()
        // A grant of a day, then a renewal of 2^34 s (seconds that overflow nanoseconds): both
        // are taken as the 3 s we asked for.
        harness.answer((200, #"{"ID":"\#(capturedLease)","TTL":"86400"}"#))
        harness.answer(CapturedEtcdAnswers.txnSucceeded)
        #expect(harness.guardian.lease.map(harness.guardian.deadline(of:)) == grantSent + .milliseconds(2500))
        harness.advance(by: 0.98)
        let renewalSent = harness.now
        harness.answer((200, #"{"result":{"ID":"\#(capturedLease)","TTL":"17179869184"}}"#))
        #expect(harness.guardian.lease.map(harness.guardian.deadline(of:)) == renewalSent + .milliseconds(2500))
    }

    @Test func aMasterWhoseRenewalsGoUnansweredLeavesAtItsDeadlineBeforeEtcdCanExpireTheLease() {
        var harness = Harness()
        let grantSent = harness.now
        harness.becomeMaster()
        var lost: MonotonicInstant?
        while lost == nil, harness.now < grantSent + .seconds(4) {
            if harness.inFlight != nil {
                harness.fail("Operation timed out", after: 0.2)
            } else {
                harness.advance(by: 0.05)
            }
            if Harness.revocations(harness.log) == [.leaseLost] { lost = harness.now }
        }
        // etcd expires the lease 3 s after it got the grant, at the earliest grantSent + 3 s.
        #expect(lost.map { $0 >= grantSent + .milliseconds(2500) && $0 < grantSent + .seconds(3) } == true)
        #expect(!harness.guardian.isMaster)
        #expect(
            Harness.logs(harness.log, .warning).contains { $0.contains("leaving MASTER before etcd can expire it") })
        // The lease given up is revoked, best effort, but only once the daemon's down script is
        // done (stopWanting): the key must not free while the address may still be up.
        #expect(!Harness.calls(harness.log).contains(.revoke(lease: capturedLease)))
        #expect(harness.guardian.inFlight == nil)
        #expect(Harness.calls(harness.stopWanting()) == [.revoke(lease: capturedLease)])
        #expect(harness.answer(CapturedEtcdAnswers.revoked).contains(.released))
    }

    @Test func aStandingDownMasterKeepsItsLeaseRenewedAndRevokesItOnlyWhenItStopsWanting() {
        var harness = Harness()
        harness.becomeMaster()
        let standing = harness.record(harness.guardian.standDown(at: harness.now))
        #expect(standing.isEmpty)
        #expect(!harness.guardian.wanting)
        // The down script runs for two seconds: the lease is renewed meanwhile, nothing else.
        var calls: [EtcdCall] = []
        for _ in 0..<20 {
            let actions = harness.advance(by: 0.1)
            calls += Harness.calls(actions)
            if harness.inFlight != nil { harness.answer(CapturedEtcdAnswers.keepAliveAlive) }
        }
        #expect(!calls.isEmpty)
        #expect(calls.allSatisfy { $0 == .keepAlive(lease: capturedLease) })
        #expect(Harness.revocations(harness.log).isEmpty)
        #expect(harness.guardian.isMaster)
        let leaving = harness.stopWanting()
        #expect(Harness.calls(leaving) == [.revoke(lease: capturedLease)])
        #expect(harness.answer(CapturedEtcdAnswers.revoked).contains(.released))
    }

    @Test func wantingAgainWhileStandingDownWithTheKeyGrantsMastershipAtOnce() {
        var harness = Harness()
        harness.becomeMaster()
        harness.record(harness.guardian.standDown(at: harness.now))
        let again = harness.want()
        #expect(Harness.grants(again) == [capturedLease])
        #expect(Harness.calls(again).isEmpty)
        #expect(harness.guardian.wanting && harness.guardian.isMaster)
    }

    @Test func standingDownWhileContendingCancelsTheTransaction() {
        var harness = Harness()
        harness.want()
        harness.answer(CapturedEtcdAnswers.grant)
        let acquire = harness.inFlight
        #expect(acquire?.call == .acquire(key: key, value: "192.0.2.1 hostA", lease: capturedLease))
        let standing = harness.record(harness.guardian.standDown(at: harness.now))
        #expect(acquire.map { standing == [.cancel(requestID: $0.id)] } == true)
        #expect(Harness.calls(harness.stopWanting()) == [.revoke(lease: capturedLease)])
    }

    @Test func aCallThatGetsNoAnswerIsCancelledAtItsTimeoutNeverPastTheLeaseDeadline() {
        var harness = Harness()
        let grantSent = harness.now
        harness.becomeMaster()
        harness.advance(by: 0.98)
        let keepAlive = harness.inFlight
        #expect(keepAlive?.timeout == .milliseconds(500))
        let expired = harness.advance(by: 0.5)
        #expect(keepAlive.map { expired.first == .cancel(requestID: $0.id) } == true)
        // A call that timed out has waited long enough: the retry leaves at once.
        #expect(harness.inFlight?.call == .keepAlive(lease: capturedLease))
        #expect(harness.inFlight?.id != keepAlive?.id)
        // A later try is bounded by what is left until the deadline (2.5 s after the grant).
        harness.advance(by: 0.5)
        harness.fail(after: 0.1)
        harness.advance(by: 0.15)
        #expect(harness.guardian.inFlight?.sentAt == grantSent + .milliseconds(2250))
        #expect(harness.inFlight?.timeout == .milliseconds(250))
        #expect(harness.guardian.inFlight?.expiresAt == grantSent + .milliseconds(2500))
    }

    @Test func anAnswerToACancelledCallIsIgnored() {
        var harness = Harness()
        harness.want()
        let grant = harness.inFlight
        harness.advance(by: 1.5)
        #expect(harness.inFlight?.id != grant?.id)
        let late = grant.map {
            harness.guardian.received(
                status: 200, body: Array(CapturedEtcdAnswers.grant.1.utf8), for: $0.id, at: harness.now)
        }
        #expect(late == [])
        #expect(harness.guardian.leaseID == nil)
    }

    @Test func aKeepAliveAnsweredWithoutTTLTakesMastershipBackAsLeaseExpired() {
        var harness = Harness()
        harness.becomeMaster()
        harness.advance(by: 0.98)
        let actions = harness.answer(CapturedEtcdAnswers.keepAliveExpired)
        #expect(Harness.revocations(actions) == [.leaseExpired])
        #expect(!harness.guardian.isMaster)
        // The daemon leaves MASTER: nothing more until it wants again, then a new lease.
        #expect(Harness.calls(actions).isEmpty)
        #expect(Harness.calls(harness.want()) == [.grant(ttl: 3)])
    }

    @Test func aBackupStaysBackupWhileAnotherHostHoldsTheKeyAndRetriesEachAdvertInterval() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        let held = harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        #expect(Harness.grants(harness.log).isEmpty)
        #expect(harness.guardian.holder == EtcdKeyHolder(value: "192.0.2.1 hostA", lease: capturedLease))
        #expect(
            Harness.logs(held, .info) == ["etcd: key \(key) is held by 192.0.2.1 hostA (lease \(capturedLease))"])
        // How long the holder's lease has left is asked at once; unanswered, the tries keep
        // their interval (today's schedule).
        #expect(Harness.calls(held) == [.timeToLive(lease: capturedLease)])
        harness.fail()
        #expect(harness.inFlight == nil)
        // The renewal of our own lease falls due first; the retry follows its answer.
        #expect(Harness.calls(harness.advance(by: 0.99)) == [.keepAlive(lease: otherLease)])
        let retried = harness.answer(CapturedEtcdAnswers.keepAliveAlive)
        #expect(Harness.calls(retried) == [.acquire(key: key, value: "192.0.2.2 hostB", lease: otherLease)])
        // The same holder again is not logged again.
        #expect(Harness.logs(harness.answer(CapturedEtcdAnswers.txnFailedHeld), .info).isEmpty)
    }

    @Test func aContenderKeepsItsLeaseAliveAndRenewsItWhileItWaits() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        var calls: [EtcdCall] = []
        for _ in 0..<12 {
            let actions = harness.advance(by: 0.5)
            calls += Harness.calls(actions)
            if let request = harness.inFlight {
                let answer =
                    request.call == .keepAlive(lease: otherLease)
                    ? CapturedEtcdAnswers.keepAliveAlive : CapturedEtcdAnswers.txnFailedHeld
                harness.answer(answer)
            }
        }
        #expect(calls.filter { $0 == .keepAlive(lease: otherLease) }.count >= 5)
        #expect(harness.guardian.leaseID == otherLease)
        #expect(Harness.calls(harness.log).filter { $0 == .grant(ttl: 3) }.count == 1)
    }

    @Test func wantingAgainRetriesAtOnceRatherThanAtTheNextInterval() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        harness.answer(CapturedEtcdAnswers.timeToLiveOneSecond)
        harness.advance(by: 0.1)
        #expect(harness.inFlight == nil)
        #expect(Harness.calls(harness.want()) == [.acquire(key: key, value: "192.0.2.2 hostB", lease: otherLease)])
    }

    @Test func aLeavingMasterRevokesItsLeaseFirstAndIsReleasedWhenEtcdConfirms() {
        var harness = Harness()
        harness.becomeMaster()
        let leaving = harness.stopWanting()
        #expect(Harness.calls(leaving) == [.revoke(lease: capturedLease)])
        #expect(!leaving.contains(.released))
        #expect(Harness.revocations(leaving).isEmpty)  // the daemon leaves by itself
        let confirmed = harness.answer(CapturedEtcdAnswers.revoked)
        #expect(confirmed.contains(.released))
        #expect(harness.guardian.nextDeadline == nil)
    }

    @Test func aLeavingMasterIsReleasedWhenEtcdDoesNotAnswerTheRevoke() {
        var harness = Harness()
        harness.becomeMaster()
        harness.stopWanting()
        #expect(harness.inFlight?.timeout == .milliseconds(500))
        let timedOut = harness.advance(by: 0.5)
        #expect(timedOut.contains(.released))
        #expect(harness.inFlight == nil)
    }

    @Test func leavingInTheMiddleOfARenewalCancelsItAndRevokes() {
        var harness = Harness()
        harness.becomeMaster()
        harness.advance(by: 0.98)
        let renewal = harness.inFlight
        let leaving = harness.stopWanting()
        #expect(renewal.map { leaving.first == .cancel(requestID: $0.id) } == true)
        #expect(Harness.calls(leaving) == [.revoke(lease: capturedLease)])
    }

    @Test func leavingTwiceLetsTheFirstRevokeFinishAndReleasesOnce() {
        var harness = Harness()
        harness.becomeMaster()
        harness.stopWanting()
        let revoke = harness.inFlight
        let again = harness.stopWanting()
        #expect(again.isEmpty)
        #expect(harness.inFlight == revoke)
        harness.answer(CapturedEtcdAnswers.revoked)
        #expect(harness.log.filter { $0 == .released }.count == 1)
    }

    @Test func aLeavingMasterWhoseTokenExpiredAuthenticatesAgainBeforeRevoking() {
        var harness = Harness.masterWhoseTokenExpired()
        #expect(harness.inFlight?.call == .authenticate(user: "carp", password: "carppw"))
        let leaving = harness.stopWanting()
        #expect(Harness.calls(leaving) == [.authenticate(user: "carp", password: "carppw")])
        let authenticated = harness.answer(CapturedEtcdAnswers.authenticated)
        #expect(Harness.calls(authenticated) == [.revoke(lease: capturedLease)])
        #expect(harness.inFlight?.token == "YZHecRONpzJBnEKG.27")
        #expect(harness.answer(CapturedEtcdAnswers.revoked).contains(.released))
    }

    @Test func aLeavingMasterThatCannotAuthenticateIsReleasedAnyway() {
        var harness = Harness.masterWhoseTokenExpired()
        harness.stopWanting()
        let failed = harness.answer(CapturedEtcdAnswers.authenticationFailed)
        #expect(failed.contains(.released))
        // Nothing left to do: no retry loop for the revoke.
        #expect(harness.inFlight == nil)
        #expect(harness.guardian.nextDeadline == nil)
    }

    @Test func stoppingWithoutALeaseIsReleasedAtOnce() {
        var harness = Harness()
        #expect(harness.stopWanting() == [.released])
    }

    @Test func aPreferredHostGetsTheKeyWhenTheHolderYieldsToItsAdvert() {
        // hostA holds the key; hostB, preferred, comes back: blocked by the key, it advertises
        // as the master it would be; hostA's CARP yields to the better advert and calls
        // stopWanting; hostB's CARP sees hostA's leaving advert and calls want again.
        var holder = Harness(value: "192.0.2.1 hostA")
        holder.becomeMaster()
        var preferred = Harness(value: "192.0.2.2 hostB")
        preferred.want()
        preferred.answer(CapturedEtcdAnswers.grantOther)
        preferred.answer(CapturedEtcdAnswers.txnFailedHeld)
        #expect(!preferred.guardian.isMaster)

        holder.stopWanting()
        #expect(holder.answer(CapturedEtcdAnswers.revoked).contains(.released))
        // The leaving advert follows the release; the preferred host's next call is its acquire.
        let retry = preferred.want()
        #expect(Harness.calls(retry) == [.acquire(key: key, value: "192.0.2.2 hostB", lease: otherLease)])
        #expect(Harness.grants(preferred.answer(CapturedEtcdAnswers.txnSucceeded)) == [otherLease])
        #expect(!holder.guardian.isMaster)
    }

    @Test func etcdDownAtStartUpLeavesUsBackupAndSaysWhy() {
        var harness = Harness()
        harness.want()
        let failed = harness.fail()
        #expect(
            Harness.logs(failed, .warning) == [
                "etcd: unreachable, may not be master: grant at endpoint 1 failed: Connection refused"
            ])
        #expect(harness.guardian.problem != nil)
        // One endpoint: the next try waits one retry interval.
        #expect(harness.inFlight == nil)
        #expect(Harness.calls(harness.advance(by: 1.0)) == [.grant(ttl: 3)])
        // Failing again is not logged again; answering is.
        #expect(Harness.logs(harness.fail(), .warning).isEmpty)
        harness.advance(by: 1.0)
        #expect(Harness.logs(harness.answer(CapturedEtcdAnswers.grant), .info) == ["etcd: answering again"])
        #expect(harness.guardian.problem == nil)
    }

    @Test func aFailedCallGoesToTheNextEndpointAtOnceAndWaitsOnlyAfterAWholeRound() {
        var harness = Harness(endpoints: 3)
        harness.want()
        #expect(harness.inFlight?.endpoint == 0)
        harness.fail()
        #expect(harness.inFlight?.endpoint == 1)
        harness.fail()
        #expect(harness.inFlight?.endpoint == 2)
        harness.fail()
        #expect(harness.inFlight == nil)
        harness.advance(by: 1.0)
        #expect(harness.inFlight?.endpoint == 0)
    }

    @Test func keepPolicyHoldsMastershipWhileEtcdIsSilentAndReleasesIfAnotherHostTookTheKey() {
        var harness = Harness(value: "192.0.2.2 hostB", unreachable: .keep)
        let grantSent = harness.now
        harness.becomeMaster()
        while harness.now < grantSent + .seconds(6) {
            if harness.inFlight != nil { harness.fail() } else { harness.advance(by: 0.1) }
        }
        #expect(harness.guardian.isMaster)
        #expect(Harness.revocations(harness.log).isEmpty)
        #expect(Harness.logs(harness.log, .warning).contains { $0.contains("--etcd-unreachable=keep") })
        // etcd is back: our lease has expired, another host took the key meanwhile.
        while harness.inFlight?.call != .keepAlive(lease: capturedLease) { harness.advance(by: 0.1) }
        let gone = harness.answer(CapturedEtcdAnswers.keepAliveExpired)
        #expect(harness.guardian.isMaster)
        #expect(Harness.calls(gone) == [.grant(ttl: 3)])
        harness.answer(CapturedEtcdAnswers.grantRaisedToMinimum)
        let taken = harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        #expect(Harness.revocations(taken) == [.keyTaken])
        #expect(!harness.guardian.isMaster)
    }

    @Test func keepPolicyTakesTheKeyAgainWithoutAFreshGrantOfMastership() {
        var harness = Harness(unreachable: .keep)
        let grantSent = harness.now
        harness.becomeMaster()
        while harness.now < grantSent + .seconds(4) {
            if harness.inFlight != nil { harness.fail() } else { harness.advance(by: 0.1) }
        }
        while harness.inFlight?.call != .keepAlive(lease: capturedLease) { harness.advance(by: 0.1) }
        harness.answer(CapturedEtcdAnswers.keepAliveExpired)
        harness.answer(CapturedEtcdAnswers.grant)
        let retaken = harness.answer(CapturedEtcdAnswers.txnSucceeded)
        #expect(Harness.logs(retaken, .info) == ["etcd: key \(key) taken again with lease \(capturedLease)"])
        #expect(Harness.grants(harness.log) == [capturedLease])
        #expect(Harness.revocations(harness.log).isEmpty)
        #expect(harness.guardian.isMaster)
    }

    @Test func keepPolicyGivesNobodyNewMastershipWhileEtcdIsDown() {
        var harness = Harness(unreachable: .keep)
        harness.want()
        for _ in 0..<5 {
            harness.fail()
            harness.advance(by: 1.0)
        }
        #expect(Harness.grants(harness.log).isEmpty)
    }

    @Test func aTransactionOnADeadLeaseAsksForANewLease() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        let dead = harness.answer(CapturedEtcdAnswers.txnOnDeadLease)
        #expect(Harness.calls(dead) == [.grant(ttl: 3)])
        #expect(harness.guardian.problem == nil)
    }

    @Test func aContenderWhoseLeaseMayHaveExpiredStartsAgainWithANewOne() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        for _ in 0..<40 {
            if harness.inFlight != nil { harness.fail() } else { harness.advance(by: 0.1) }
            if harness.guardian.leaseID == nil { break }
        }
        #expect(harness.guardian.leaseID == nil)
        #expect(Harness.logs(harness.log, .info).contains { $0.contains("not renewed in time: asking for a new one") })
        #expect(Harness.revocations(harness.log).isEmpty)
    }

    @Test func theKeyHeldByAnEarlierLeaseOfOursIsRevokedAtOnce() {
        var harness = Harness(value: "192.0.2.1 hostA")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantRaisedToMinimum)  // lease ...705, not ...669
        let stale = harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        #expect(Harness.calls(stale) == [.revoke(lease: capturedLease)])
        let revoked = harness.answer(CapturedEtcdAnswers.revoked)
        #expect(!revoked.contains(.released))
        #expect(
            Harness.calls(revoked) == [.acquire(key: key, value: "192.0.2.1 hostA", lease: 8_061_340_188_859_377_705)])
    }

    @Test func aTransactionFoundHeldByOurOwnLeaseMeansWeHoldTheKey() {
        // Our first transaction succeeded but its answer was lost; the retry finds our lease.
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grant)
        harness.advance(by: 0.6)  // the acquire times out
        harness.want()
        #expect(harness.inFlight?.call == .acquire(key: key, value: "192.0.2.2 hostB", lease: capturedLease))
        #expect(Harness.grants(harness.answer(CapturedEtcdAnswers.txnFailedHeld)) == [capturedLease])
    }

    @Test func withCredentialsTheGuardAuthenticatesFirstAndSendsTheToken() {
        var harness = Harness(credentials: .init(user: "carp", password: "carppw"))
        #expect(Harness.calls(harness.want()) == [.authenticate(user: "carp", password: "carppw")])
        #expect(harness.inFlight?.token == nil)
        harness.answer(CapturedEtcdAnswers.authenticated)
        #expect(harness.inFlight?.call == .grant(ttl: 3))
        #expect(harness.inFlight?.token == "YZHecRONpzJBnEKG.27")
    }

    @Test func aRefusedTokenIsRenewedAndTheCallMadeAgain() {
        var harness = Harness(credentials: .init(user: "carp", password: "carppw"))
        harness.want()
        harness.answer(CapturedEtcdAnswers.authenticated)
        let refused = harness.answer(CapturedEtcdAnswers.invalidToken)
        #expect(Harness.calls(refused) == [.authenticate(user: "carp", password: "carppw")])
        harness.answer(CapturedEtcdAnswers.authenticated)
        #expect(harness.inFlight?.call == .grant(ttl: 3))
    }

    @Test func aWrongPasswordIsLoggedAndRetriedEachInterval() {
        var harness = Harness(credentials: .init(user: "carp", password: "wrong"))
        harness.want()
        let refused = harness.answer(CapturedEtcdAnswers.authenticationFailed)
        #expect(
            Harness.logs(refused, .warning) == [
                "etcd: unreachable, may not be master: authenticate at endpoint 1 failed: authentication as carp "
                    + "refused: etcdserver: authentication failed, invalid user ID or password (HTTP 400, code 3)"
            ])
        #expect(harness.inFlight == nil)
        #expect(Harness.calls(harness.advance(by: 1.0)) == [.authenticate(user: "carp", password: "wrong")])
    }

    @Test func aPermissionDeniedOnTheKeyKeepsUsBackup() {
        var harness = Harness()
        harness.want()
        harness.answer(CapturedEtcdAnswers.grant)
        let denied = harness.answer(CapturedEtcdAnswers.permissionDenied)
        #expect(Harness.logs(denied, .warning).first?.contains("permission denied") == true)
        #expect(Harness.grants(harness.log).isEmpty)
    }
}

@Suite struct EtcdLeaseGuardLookUpTests {
    static func guardian() -> EtcdLeaseGuard {
        EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: "192.0.2.1 hostA", ttl: 3, retryInterval: .seconds(1)))
    }

    @Test func aLookUpReadsTheKeyAndTellsItsHolder() throws {
        var guardian = Self.guardian()
        let now = MonotonicInstant.seconds(100)
        let actions = guardian.lookUp(at: now)
        guard case .send(let request) = try #require(actions.first) else {
            Issue.record("no request: \(actions)")
            return
        }
        #expect(request.call == .read(key: "/swiftcarp/7/192.0.2.100"))
        let (status, body) = CapturedEtcdAnswers.rangeHeld
        #expect(
            guardian.received(status: status, body: Array(body.utf8), for: request.id, at: now + .milliseconds(5))
                == [.keyLookedUp(holder: EtcdKeyHolder(value: "192.0.2.1 hostA", lease: 3_777_009_571_123_792_645))])
        #expect(!guardian.wanting && !guardian.isMaster)
    }

    @Test func noLookUpWhileWantingOrWithACallInFlight() {
        var guardian = Self.guardian()
        let now = MonotonicInstant.seconds(100)
        _ = guardian.want(at: now)
        #expect(guardian.lookUp(at: now).isEmpty)
        var idle = Self.guardian()
        _ = idle.lookUp(at: now)
        #expect(idle.lookUp(at: now).isEmpty)
    }

    @Test func withCredentialsALookUpAuthenticatesFirstThenReadsWithTheToken() throws {
        var guardian = EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: "192.0.2.1 hostA", ttl: 3, retryInterval: .seconds(1),
                credentials: .init(user: "carp", password: "carppw")))
        let now = MonotonicInstant.seconds(100)
        guard case .send(let authenticate) = try #require(guardian.lookUp(at: now).first) else { return }
        #expect(authenticate.call == .authenticate(user: "carp", password: "carppw"))
        let (status, body) = CapturedEtcdAnswers.authenticated
        let actions = guardian.received(status: status, body: Array(body.utf8), for: authenticate.id, at: now)
        guard case .send(let read) = try #require(actions.first) else {
            Issue.record("no read: \(actions)")
            return
        }
        #expect(read.call == .read(key: "/swiftcarp/7/192.0.2.100"))
        #expect(read.token == "YZHecRONpzJBnEKG.27")
        let (rangeStatus, rangeBody) = CapturedEtcdAnswers.rangeHeld
        #expect(
            guardian.received(status: rangeStatus, body: Array(rangeBody.utf8), for: read.id, at: now)
                == [.keyLookedUp(holder: EtcdKeyHolder(value: "192.0.2.1 hostA", lease: 3_777_009_571_123_792_645))])
        // The token kept, the next look-up reads at once.
        guard case .send(let next) = try #require(guardian.lookUp(at: now + .seconds(30)).first) else { return }
        #expect(next.call == .read(key: "/swiftcarp/7/192.0.2.100"))
    }

    @Test func aLookUpWhoseAuthenticationFailsLeavesNothingToRetry() throws {
        var guardian = EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: "192.0.2.1 hostA", ttl: 3, retryInterval: .seconds(1),
                credentials: .init(user: "carp", password: "wrong")))
        let now = MonotonicInstant.seconds(100)
        guard case .send(let authenticate) = try #require(guardian.lookUp(at: now).first) else { return }
        let (status, body) = CapturedEtcdAnswers.authenticationFailed
        _ = guardian.received(status: status, body: Array(body.utf8), for: authenticate.id, at: now)
        #expect(guardian.nextDeadline == nil)
    }

    @Test func aFailedLookUpIsAProblemButChangesNothingElse() throws {
        var guardian = Self.guardian()
        let now = MonotonicInstant.seconds(100)
        guard case .send(let request) = try #require(guardian.lookUp(at: now).first) else { return }
        let actions = guardian.failed(requestID: request.id, reason: "Connection refused", at: now)
        #expect(
            actions == [
                .log(.warning, "etcd: unreachable, may not be master: read at endpoint 1 failed: Connection refused")
            ])
        #expect(guardian.nextDeadline == nil)
    }
}

/// A lease taken back while the down script runs, and a newer term meanwhile.
@Suite struct EtcdLeaseGuardHeldBackTests {
    /// Master, then the lease lost at its deadline (renewals unanswered): held back.
    fileprivate static func lostLease() -> Harness {
        var harness = Harness()
        harness.becomeMaster()
        while Harness.revocations(harness.log).isEmpty {
            if harness.inFlight != nil {
                harness.fail("Operation timed out", after: 0.2)
            } else {
                harness.advance(by: 0.05)
            }
        }
        return harness
    }

    @Test func aLeaseIsHeldWhileOursAndNoLongerOnceTakenBack() {
        var harness = Harness()
        harness.becomeMaster()
        #expect(harness.guardian.holds(capturedLease))
        #expect(!harness.guardian.holds(capturedLease + 1))
        let lost = Self.lostLease()
        #expect(!lost.guardian.holds(capturedLease))
    }

    @Test func releasingTheHeldBackLeaseRevokesItAloneAndTheNewerTermGoesOn() {
        var harness = Self.lostLease()
        // A newer term wants the key: it asks for a lease of its own.
        let wanting = harness.want()
        #expect(Harness.calls(wanting) == [.grant(ttl: 3)])
        #expect(!Harness.calls(harness.log).contains(.revoke(lease: capturedLease)))
        // The old term's down script ends while the grant is on the wire: the held-back lease is
        // revoked once that call is answered, and the guard still wants the key.
        let released = harness.record(harness.guardian.releaseHeldBack(at: harness.now))
        #expect(Harness.calls(released).isEmpty)
        let granted = harness.answer(CapturedEtcdAnswers.grant)
        #expect(Harness.calls(granted) == [.revoke(lease: capturedLease)])
        let confirmed = harness.answer(CapturedEtcdAnswers.revoked)
        #expect(confirmed.contains(.released))
        #expect(harness.guardian.wanting)
        #expect(harness.inFlight?.call == .acquire(key: key, value: "192.0.2.1 hostA", lease: capturedLease))
    }

    @Test func withNothingHeldBackTheReleaseIsAtOnce() {
        var harness = Harness()
        harness.becomeMaster()
        #expect(harness.record(harness.guardian.releaseHeldBack(at: harness.now)) == [.released])
        #expect(harness.guardian.isMaster)
    }
}

/// A backup blocked by a dead holder's lease times its tries from `lease/timetolive`.
@Suite struct EtcdLeaseGuardWaitTests {
    /// etcd with another host's lease on the key: it ends at `end` (pushed back by `renewals`,
    /// the holder's renewal times, each giving it 3 s again) and etcd revokes it 0.3 s later
    /// (its check for expired leases runs every 0.5 s).
    struct Etcd {
        var end: Double
        var renewals: [Double] = []

        func ends(at now: Double) -> Double {
            renewals.filter { $0 <= now }.map { $0 + 3 }.reduce(end, max)
        }

        func answer(_ call: EtcdCall, _ instant: MonotonicInstant) -> (Int, String) {
            let now = Double(instant.nanoseconds) / 1e9
            let end = ends(at: now)
            let free = now >= end + 0.3
            switch call {
            case .grant: return CapturedEtcdAnswers.grantOther
            case .keepAlive: return CapturedEtcdAnswers.keepAliveAlive
            case .acquire: return free ? CapturedEtcdAnswers.txnSucceeded : CapturedEtcdAnswers.txnFailedHeld
            case .timeToLive:
                // Whole seconds left, rounded towards zero; -1 once revoked.
                let left = free ? -1 : Int64((end - now).rounded(.towardZero))
                return (200, #"{"header":{"revision":"2"},"ID":"\#(capturedLease)","TTL":"\#(left)","grantedTTL":"3"}"#)
            case .revoke, .authenticate, .read: return (500, "unexpected")
            }
        }
    }

    static func acquires(_ sent: [(call: EtcdCall, at: Double)]) -> [Double] {
        sent.compactMap { if case .acquire = $0.call { $0.at } else { nil } }
    }

    static func smallestGap(_ times: [Double]) -> Double {
        zip(times, times.dropFirst()).map { $1 - $0 }.min() ?? .infinity
    }

    /// The try that took the key: the last acquire before mastership.
    static func takenAt(_ sent: [(call: EtcdCall, at: Double)]) -> Double? { acquires(sent).last }

    @Test func theTryLandsJustAfterTheHoldersLeaseIsRevokedNotAtTheNextInterval() throws {
        var harness = Harness(value: "192.0.2.2 hostB")
        let etcd = Etcd(end: 101.8)
        harness.want()
        let sent = harness.serve(for: 4) { etcd.answer($0, $1) }
        #expect(harness.guardian.isMaster)
        // Revoked at 102.1: taken within one ending retry (250 ms) and a round trip of it;
        // tries once a second would have waited for 103.05.
        let taken = try #require(Self.takenAt(sent))
        #expect(taken >= 102.1 && taken <= 102.1 + 0.25 + 0.03, "taken at \(taken)")
        #expect(Self.smallestGap(Self.acquires(sent)) >= 0.25 - 1e-9, "\(Self.acquires(sent))")
        // At most a try and a timetolive per 250 ms, besides the grant and our renewals.
        let contending = sent.filter { $0.at < taken }.filter {
            switch $0.call {
            case .acquire, .timeToLive: true
            default: false
            }
        }
        #expect(contending.count <= 2 * Int((taken - 100) / 0.25) + 2, "\(contending.map(\.call.name))")
    }

    @Test func withALongIntervalTheTryIsTimedFromTheSecondsLeft() throws {
        // advbase 3: today's schedule would try at 100.01, 103.02 and take the key then.
        var harness = Harness(value: "192.0.2.2 hostB", retryInterval: 3)
        let etcd = Etcd(end: 101.5)
        harness.want()
        let sent = harness.serve(for: 4) { etcd.answer($0, $1) }
        #expect(harness.guardian.isMaster)
        let acquires = Self.acquires(sent)
        // The first answer says 1 s left (1.48): the next try at the send time of that
        // timetolive plus 1 s, then every 250 ms until the key is free at 101.8.
        #expect(abs(acquires[1] - 101.02) < 1e-6, "\(acquires)")
        let taken = try #require(acquires.last)
        #expect(taken >= 101.8 && taken <= 101.8 + 0.25 + 0.03, "taken at \(taken)")
        #expect(Self.smallestGap(acquires) >= 0.25 - 1e-9)
    }

    @Test func aHolderThatRenewsPushesTheTryBackAndIsNotPolledFaster() throws {
        var harness = Harness(value: "192.0.2.2 hostB", retryInterval: 3)
        // Alive until 104: it renews every second, then dies; its lease ends at 106.5.
        let etcd = Etcd(end: 102.5, renewals: [100.5, 101.5, 102.5, 103.5])
        harness.want()
        let sent = harness.serve(for: 8) { etcd.answer($0, $1) }
        let acquires = Self.acquires(sent)
        // While it renews, its lease always has 2 s or more left: a try every 2 s or so.
        let whileAlive = acquires.filter { $0 < 104.5 }
        #expect(Self.smallestGap(whileAlive) >= 1.9, "\(acquires)")
        #expect(whileAlive.count <= 3, "\(acquires)")
        #expect(harness.guardian.isMaster)
        let taken = try #require(acquires.last)
        #expect(taken >= 106.8 && taken <= 106.8 + 0.25 + 0.03, "taken at \(taken)")
        #expect(Self.smallestGap(acquires) >= 0.25 - 1e-9)
    }

    @Test func aLivingHolderCostsTwoCallsPerIntervalAtMost() {
        var harness = Harness(value: "192.0.2.2 hostB")
        let etcd = Etcd(end: 103, renewals: Array(stride(from: 100.5, to: 120, by: 1)))
        harness.want()
        let sent = harness.serve(for: 10) { etcd.answer($0, $1) }
        #expect(!harness.guardian.isMaster)
        let acquires = Self.acquires(sent)
        let timeToLives = sent.filter { if case .timeToLive = $0.call { true } else { false } }
        #expect(acquires.count <= 11 && timeToLives.count <= 11, "\(acquires.count) \(timeToLives.count)")
        #expect(Self.smallestGap(acquires) >= 0.99)
    }

    @Test func aRefusedTimeToLiveKeepsTheIntervalAndIsNoOutage() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        let heldAt = harness.now + .milliseconds(10)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        let refused = harness.answer(CapturedEtcdAnswers.permissionDenied)
        #expect(Harness.logs(refused, .warning).isEmpty)
        #expect(harness.guardian.problem == nil)
        #expect(harness.guardian.nextAcquire == heldAt + .seconds(1))
        #expect(harness.inFlight == nil)
    }

    @Test func aKeyBoundToNoLeaseIsNotTimed() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        let held = harness.answer(
            (200, #"{"responses":[{"response_range":{"kvs":[{"key":"a2V5","value":"MTkyLjAuMi4xIGhvc3RB"}]}}]}"#))
        #expect(Harness.calls(held).isEmpty)
    }

    @Test func wantingAgainWhileTheTimeToLiveIsOnTheWireTriesAtOnce() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        let asked = harness.inFlight
        #expect(asked?.call == .timeToLive(lease: capturedLease))
        let again = harness.want()
        #expect(again.contains(.cancel(requestID: asked?.id ?? 0)))
        #expect(Harness.calls(again) == [.acquire(key: key, value: "192.0.2.2 hostB", lease: otherLease)])
    }

    @Test func aTimeToLiveAnsweredAfterWeStoodDownChangesNothing() {
        var harness = Harness(value: "192.0.2.2 hostB")
        harness.want()
        harness.answer(CapturedEtcdAnswers.grantOther)
        harness.answer(CapturedEtcdAnswers.txnFailedHeld)
        let request = harness.inFlight
        let actions = harness.record(harness.guardian.standDown(at: harness.now))
        #expect(actions.contains(.cancel(requestID: request?.id ?? 0)))
        #expect(harness.inFlight == nil)
    }
}
