import CARPCore
import EtcdGuard
import Testing

@testable import CARPInstance

/// A lease lost (or expired, or the key taken) after the master left but before its down script
/// ran: the key is no longer ours, so an up script still adding the address must be killed and
/// the down script go first, as when the loss comes while granted.
///
/// Known issue (found by ``InstanceEtcdRandomWalkTests`` with seeds 13, 35 and 48):
/// `Instance.revoked(_:at:)` (Instance+Etcd.swift) returns at once unless the gate is granted
/// and CARP's role is MASTER, so once the term has left (its release waiting for the down script)
/// the guard's ``EtcdLeaseGuard/Action/revokeMastership(reason:)`` is ignored: the running up
/// script is not killed, a queued one is not dropped, and the down script waits behind them.
@Suite struct InstanceEtcdLossAfterLeavingTests {
    static let leaseGone = #"{"result":{"ID":"42"}}"#

    @Test func aLeaseLostAfterAStepDownKillsTheUpScriptStillRunning() throws {
        var driver = InstanceEtcdTests.driver()
        let (now, actions) = InstanceEtcdTests.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        let up = try #require(granted.spawned.first)
        #expect(up.1.path == "/etc/up")
        // A step-down while the up script still adds the address: the down script waits behind it,
        // the lease is still ours and renewed.
        let leaving = driver.signal(.user2, at: now + .milliseconds(100))
        #expect(leaving.states == ["BACKUP"])
        #expect(leaving.spawned.isEmpty)
        let renewal = driver.run(until: now + .milliseconds(1020))
        let keepAlive = try #require(renewal.etcdRequests.last)
        #expect(keepAlive.call == .keepAlive(lease: 42))
        // etcd says the lease is gone: another host may take the key and the address now.
        let at = now + .milliseconds(1030)
        let gone = driver.carryOut(
            driver.instance.etcdAnswered(status: 200, body: Array(Self.leaseGone.utf8), for: keepAlive.id, at: at),
            at: at)
        #expect(gone.messages.contains("etcd: lease 42 has expired: leaving MASTER"))
        withKnownIssue("Instance.revoked ignores a loss once the term has left: the up script goes on without the key") {
            #expect(gone.killed == [up.0])
        }
        // Once the up script is reaped, the down script runs, then the lease (gone) is let go.
        let reaped = driver.exited(up.0, .killed(signal: 9), at: at + .milliseconds(10))
        let down = try #require(reaped.spawned.first)
        #expect(down.1.path == "/etc/down")
        let done = driver.exited(down.0, .exited(0), at: at + .milliseconds(20))
        #expect(done.messages.contains("etcd: key \(InstanceEtcdTests.key) released: letting [192.0.2.100] go"))
    }
}
