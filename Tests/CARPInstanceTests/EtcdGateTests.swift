import CARPCore
import EtcdGuard
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// The etcd gate on its own: a term waits for the key, is granted, holds a leaving advert; a
/// granted master's release waits for its down script, then revokes, then is released.
@Suite struct EtcdGateTests {
    static let advert = EtcdGate.Advert(advbase: 255, advskew: 255, counter: 7)
    static let master = IPAddress.ipv4(IPv4Address(192, 0, 2, 12))

    static func gate() throws -> EtcdGate {
        try #require(EtcdGate(settings: InstanceEtcdTests.guarded(), hostName: "alpha"))
    }

    /// Granted with lease 42.
    static func holding() throws -> EtcdGate {
        var gate = try gate()
        gate.carpMadeMaster(from: .backup, reason: .masterSilent)
        _ = gate.grant(42)
        return gate
    }

    @Test func withoutEtcdThereIsNoGate() {
        #expect(EtcdGate(settings: testSettings(), hostName: "alpha") == nil)
    }

    @Test func aTermIsGrantedOnlyWhileItWaits() throws {
        var gate = try Self.gate()
        #expect(gate.grant(42) == nil)
        #expect(gate.term == .none)
        gate.carpMadeMaster(from: .backup, reason: .preemption)
        #expect(gate.pendingMaster?.from == .backup)
        #expect(gate.pendingMaster?.reason == .preemption)
        #expect(!gate.granted)
        let answer = gate.grant(42)
        let granted = try #require(answer)
        #expect(granted.from == .backup && granted.reason == .preemption)
        #expect(gate.term == .holding(lease: 42, leavingAdvert: nil))
        #expect(gate.granted)
        #expect(gate.pendingMaster == nil)
        #expect(gate.grant(43) == nil, "granted already")
        #expect(gate.heldLease == 42)
    }

    @Test func aLeavingAdvertIsHeldOnlyWhileHolding() throws {
        var gate = try Self.gate()
        let heldWithNoTerm = gate.hold(Self.advert)
        #expect(!heldWithNoTerm)
        gate.carpMadeMaster(from: .backup, reason: .masterSilent)
        let heldWhileWaiting = gate.hold(Self.advert)
        #expect(!heldWhileWaiting)
        _ = gate.grant(42)
        let heldWhileHolding = gate.hold(Self.advert)
        #expect(heldWhileHolding)
        #expect(gate.term == .holding(lease: 42, leavingAdvert: Self.advert))
    }

    @Test func leavingMasterStartsAReleaseOnlyWhenGranted() throws {
        var waiting = try Self.gate()
        waiting.carpMadeMaster(from: .backup, reason: .masterSilent)
        #expect(waiting.leftMaster() == nil)
        #expect(waiting.term == .none)
        #expect(waiting.release == nil)

        var gate = try Self.holding()
        _ = gate.hold(Self.advert)
        #expect(gate.leftMaster() == .downScript(lease: 42, advert: Self.advert))
        #expect(gate.term == .none)
        #expect(gate.releaseWaitsForDownScript)
        #expect(gate.heldLease == 42, "the lease is still ours while the down script runs")
        #expect(gate.leftMaster() == nil, "no second release")
        #expect(gate.release == .downScript(lease: 42, advert: Self.advert))
    }

    @Test func theRevokeGoesOnlyAfterTheDownScriptAndIsBoundedByOneTTL() throws {
        var gate = try Self.holding()
        let revokedWithNoRelease = gate.revoke(at: t0)
        #expect(!revokedWithNoRelease, "no release yet")
        _ = gate.leftMaster()
        let revoked = gate.revoke(at: t0)
        #expect(revoked)
        #expect(gate.release == .revoking(lease: 42, advert: nil, deadline: t0 + .seconds(3)))
        #expect(!gate.releaseWaitsForDownScript)
        let revokedAgain = gate.revoke(at: t0 + .seconds(1))
        #expect(!revokedAgain, "revoking already: the bound stays")
        #expect(gate.release?.deadline == t0 + .seconds(3))
    }

    @Test func releasedOnlyWhileRevoking() throws {
        var gate = try Self.holding()
        #expect(gate.released() == nil)
        _ = gate.hold(Self.advert)
        _ = gate.leftMaster()
        #expect(gate.released() == nil, "the down script still runs")
        _ = gate.revoke(at: t0)
        let release = gate.released()
        let released = try #require(release)
        #expect(released.advert == Self.advert)
        #expect(released.lease == 42)
        #expect(gate.release == nil)
        #expect(gate.heldLease == nil)
        #expect(gate.released() == nil)
    }

    /// The lease is not the guard's any more (here it never was: no etcd answer made it so, as
    /// when the guard took it back): the release goes on, its down script must end first. The
    /// release called off while the lease is still ours is InstanceEtcdTests' (a real guard).
    @Test func carpMakingUsMasterKeepsAReleaseWhoseLeaseTheGuardNoLongerHolds() throws {
        var gate = try Self.holding()
        _ = gate.hold(Self.advert)
        _ = gate.leftMaster()
        gate.carpMadeMaster(from: .backup, reason: .preemption)
        #expect(gate.release == .downScript(lease: 42, advert: Self.advert))
        #expect(gate.term == .waiting(from: .backup, reason: .preemption, lease: nil))
        #expect(gate.heldLease == 42, "the release's, until it is confirmed")
        #expect(!gate.granted)
    }

    @Test func carpMakingUsMasterKeepsAReleaseWhoseRevokeIsInFlight() throws {
        var gate = try Self.holding()
        _ = gate.leftMaster()
        _ = gate.revoke(at: t0)
        gate.carpMadeMaster(from: .backup, reason: .masterSilent)
        #expect(gate.release == .revoking(lease: 42, advert: nil, deadline: t0 + .seconds(3)))
        #expect(gate.term == .waiting(from: .backup, reason: .masterSilent, lease: nil))
        #expect(gate.heldLease == 42, "the release's, until it is confirmed")
        _ = gate.released()
        #expect(gate.heldLease == nil)
    }

    @Test func theHeldLeaseInEachState() throws {
        var gate = try Self.gate()
        #expect(gate.heldLease == nil)
        gate.carpMadeMaster(from: .backup, reason: .masterSilent)
        #expect(gate.heldLease == nil)
        _ = gate.grant(42)
        #expect(gate.heldLease == 42)
        _ = gate.leftMaster()
        #expect(gate.heldLease == 42)
        _ = gate.revoke(at: t0)
        #expect(gate.heldLease == 42)
        _ = gate.released()
        #expect(gate.heldLease == nil)
    }

    @Test func theMasterHeardIsKeptLookedUpAfterTwoTTLsAndForgotten() throws {
        var gate = try Self.gate()
        gate.heard(Self.master, at: t0)
        #expect(
            gate.heardMaster
                == EtcdGate.HeardMaster(source: Self.master, since: t0, last: t0, nextLookUp: t0 + .seconds(6)))
        gate.heard(Self.master, at: t0 + .seconds(1))
        #expect(
            gate.heardMaster
                == EtcdGate.HeardMaster(
                    source: Self.master, since: t0, last: t0 + .seconds(1), nextLookUp: t0 + .seconds(6)))
        gate.lookUpAgain(at: t0 + .seconds(36))
        #expect(gate.heardMaster?.nextLookUp == t0 + .seconds(36))
        // Another master heard starts over.
        let other = IPAddress.ipv4(IPv4Address(192, 0, 2, 13))
        gate.heard(other, at: t0 + .seconds(2))
        #expect(
            gate.heardMaster
                == EtcdGate.HeardMaster(
                    source: other, since: t0 + .seconds(2), last: t0 + .seconds(2), nextLookUp: t0 + .seconds(8)))
        gate.forgetHeardMaster()
        #expect(gate.heardMaster == nil)
        gate.lookUpAgain(at: t0 + .seconds(50))
        #expect(gate.heardMaster == nil, "nothing to look up again")
        // CARP making us master forgets the master heard.
        gate.heard(Self.master, at: t0 + .seconds(3))
        gate.carpMadeMaster(from: .backup, reason: .masterSilent)
        #expect(gate.heardMaster == nil)
    }

    @Test func aFindingIsNewOnlyWhenItDiffers() throws {
        var gate = try Self.gate()
        let nothingWrongIsNew = gate.newFinding(nil)
        #expect(!nothingWrongIsNew)
        let freeIsNew = gate.newFinding("free")
        #expect(freeIsNew)
        let freeAgainIsNew = gate.newFinding("free")
        #expect(!freeAgainIsNew)
        let fixedIsNew = gate.newFinding(nil)
        #expect(fixedIsNew)
    }

    @Test func theNextDeadlineIsTheEarliestOfItsParts() throws {
        var gate = try Self.gate()
        #expect(gate.nextDeadline == nil)
        gate.probe(at: t0 + .seconds(9))
        #expect(gate.nextDeadline == t0 + .seconds(9))
        gate.heard(Self.master, at: t0)
        #expect(gate.nextDeadline == t0 + .seconds(6))
        // The guard's request in flight times out first (a sixth of the TTL).
        let sent = gate.lease.want(at: t0 + .seconds(1))
        #expect(sent.count == 1)
        #expect(gate.lease.nextDeadline == t0 + .milliseconds(1500))
        #expect(gate.nextDeadline == t0 + .milliseconds(1500))
        // A release's bound, earlier than all.
        var releasing = try Self.holding()
        _ = releasing.leftMaster()
        _ = releasing.revoke(at: t0 - .seconds(2))
        releasing.probe(at: t0 + .seconds(9))
        #expect(releasing.nextDeadline == t0 + .seconds(1))
        releasing.probe(at: t0)
        #expect(releasing.nextDeadline == t0)
        releasing.probe(at: nil)
        _ = releasing.released()
        #expect(releasing.nextDeadline == nil)
    }

    @Test func lossesAreCounted() throws {
        var gate = try Self.gate()
        gate.countLoss()
        gate.countLoss()
        #expect(gate.losses == 2)
    }
}
