import CARPCore
import EtcdGuard
import Testing

@testable import CARPInstance

/// A lease lost (or expired, or the key taken) after the master left but before its down script
/// ran: the key is no longer ours, so an up script still adding the address must be killed and
/// the down script go first, as when the loss comes while granted.
///
/// Found by ``InstanceEtcdRandomWalkTests`` (seeds 13, 35 and 48): the loss was ignored once the
/// term had left, so the up script went on without the key and the down script waited behind it.
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
        #expect(gone.killed == [up.0])
        // Once the up script is reaped, the down script runs, then the lease (gone) is let go.
        let reaped = driver.exited(up.0, .killed(signal: 9), at: at + .milliseconds(10))
        let down = try #require(reaped.spawned.first)
        #expect(down.1.path == "/etc/down")
        let done = driver.exited(down.0, .exited(0), at: at + .milliseconds(20))
        #expect(done.messages.contains("etcd: key \(InstanceEtcdTests.key) released: letting [192.0.2.100] go"))
    }
}

extension InstanceEtcdLossAfterLeavingTests {
    /// A lease lost while the down script runs is held back (etcd keeps the key for the margin),
    /// so that the next host cannot take the key before the address is gone here, whatever CARP
    /// does meanwhile. Found by ``InstanceEtcdRandomWalkTests`` (seeds 205 and 360): CARP making
    /// us master again called the release off although its lease was lost, and the would-be
    /// master leaving MASTER again (never granted: etcd fails, which suspends preemption) revoked
    /// the lost lease at once, under the down script. The would-be master's own leaving advert
    /// may go out (it never had the address; the key stays held until the revoke).
    @Test func aLeaseLostUnderTheDownScriptIsNotRevokedBeforeTheDownScriptEndsWhateverCARPDoesMeanwhile() throws {
        var driver = InstanceEtcdTests.driver(InstanceEtcdTests.guarded { $0.advskew = 100 })
        let granted = InstanceEtcdTests.master(&driver)
        // A preferred master: back to BACKUP, the down script runs.
        let leaving = driver.advert(advskew: 0, at: granted + .milliseconds(100))
        let down = try #require(leaving.spawned.first)
        #expect(down.1.path == "/etc/down")
        // No renewal is answered: the guard takes mastership back at its deadline (ignored, left already).
        let lost = driver.run(until: granted + .milliseconds(2600))
        #expect(lost.messages.contains("etcd: lease 42 not renewed in time: leaving MASTER before etcd can expire it"))
        #expect(driver.instance.machine.role == .backup)
        // The preferred master leaves: CARP would make us master; etcd failing, back to BACKUP at once.
        let master = driver.frame(
            .accepted(.init(source: .ipv4(peer), advbase: 255, advskew: 255, counter: 9)),
            at: granted + .milliseconds(2700))
        #expect(master.messages.contains { $0.hasPrefix("etcd: CARP would make us MASTER (master-will-time-out)") })
        #expect(master.messages.contains { $0.hasPrefix("etcd: cannot take key") })
        #expect(
            !master.etcdRequests.contains { $0.call == .revoke(lease: 42) },
            "revoked while the down script \(down.0) still runs")
        // The down script ends: only now the lost lease is revoked.
        let ended = driver.exited(down.0, .exited(0), at: granted + .milliseconds(2800))
        let afterwards = ended + driver.run(until: granted + .seconds(4))
        #expect(afterwards.etcdRequests.contains { $0.call == .revoke(lease: 42) })
    }
}
