import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance
@testable import EtcdGuard

/// A reload that changes the etcd settings: a master's key taken under the new settings while
/// the old lease holds (make before break; the old lease lapses after the re-execution, and a
/// reload that does not go ahead keeps it), refused when held elsewhere or silent, nothing
/// handed over by a backup.
@Suite struct InstanceEtcdMoveTests {
    static let newEndpoints = ["http://192.0.2.61:2379", "http://192.0.2.62:2379"]

    static func moved(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        InstanceEtcdTests.guarded {
            $0.etcd?.endpoints = newEndpoints
            adjust(&$0)
        }
    }

    /// The new cluster's answers: a grant of lease 43; the key held by `holder` with `lease`.
    static func answer(to call: EtcdCall, holder: String?, lease: Int64) -> (Int, String) {
        switch call {
        case .grant: return (200, #"{"ID":"43","TTL":"3"}"#)
        case .read:
            guard let holder else { return (200, #"{"header":{}}"#) }
            let value = Array(holder.utf8).base64
            return (200, #"{"kvs":[{"key":"a2V5","value":"\#(value)","lease":"\#(lease)"}],"count":"1"}"#)
        case .acquire, .keepAlive, .revoke, .authenticate, .timeToLive:
            return InstanceEtcdTests.answer(to: call)
        }
    }

    /// A granted master (lease 42) and when it was granted.
    static func master() -> (InstanceDriver, MonotonicInstant) {
        var driver = InstanceEtcdTests.driver()
        let granted = InstanceEtcdTests.master(&driver)
        return (driver, granted)
    }

    /// Runs `driver` from `start` until `end`, every request of the old guard and of the move
    /// answered 5 ms after it; returns all that happened.
    static func runAnswered(
        _ driver: inout InstanceDriver, from start: MonotonicInstant, until end: MonotonicInstant
    ) -> [Action] {
        var all: [Action] = []
        var clock = start
        while let next = driver.instance.nextDeadline, next < end {
            clock = max(next, clock + .milliseconds(1))
            let actions = driver.link(.running, at: clock) + driver.time(clock)
            all += actions
            if !actions.moveRequests.isEmpty { all += driver.answerMove(actions, at: clock + .milliseconds(5)) }
            if !actions.etcdRequests.isEmpty {
                all += driver.answer(actions.etcdRequests, at: clock + .milliseconds(5))
            }
        }
        return all
    }

    /// A master moved to lease 43 at the new endpoints, lease 42 still held: when it settled.
    static func movedMaster() -> (InstanceDriver, MonotonicInstant) {
        var (driver, granted) = master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: moved(), at: now)
        let grant = driver.answerMove(begun.actions, at: now + .milliseconds(10))
        let acquire = driver.answerMove(grant, at: now + .milliseconds(20))
        let taken = driver.answerMove(acquire, at: now + .milliseconds(30))
        #expect(taken.settlements == [nil])
        return (driver, now + .milliseconds(30))
    }

    @Test func aMasterTakesTheKeyAtTheNewEndpointsAndHandsTheNewLeaseOverTheOldOneStillHeld() throws {
        var (driver, granted) = Self.master()
        var now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        #expect(begun.plan == .begun)
        #expect(begun.actions.moveRequests.map(\.call) == [.read(key: InstanceEtcdTests.key)])
        #expect(begun.actions.moveRequests.first?.endpoint == 0)
        now = now + .milliseconds(10)
        let grant = driver.answerMove(begun.actions, at: now)
        #expect(grant.moveRequests.map(\.call) == [.grant(ttl: 3)])
        let acquire = driver.answerMove(grant, at: now + .milliseconds(10))
        #expect(
            acquire.moveRequests.map(\.call) == [
                .acquire(key: InstanceEtcdTests.key, value: "192.0.2.11 alpha", lease: 43)
            ])
        // Settled once the key is ours there; the old lease is not revoked: the key is ours in
        // both clusters until the re-execution, after which the old lease lapses.
        let settled = driver.answerMove(acquire, at: now + .milliseconds(20))
        #expect(settled.settlements == [nil])
        #expect(!settled.etcdRequests.map(\.call).contains(.revoke(lease: 42)))
        #expect(driver.instance.reloadRefusal == nil)
        #expect(driver.instance.etcdLease == 42)
        // No script, no state change: the address never moved.
        #expect((begun.actions + grant + acquire + settled).spawned.isEmpty)
        #expect(driver.instance.reportedRole == .master)
        let snapshot = try #require(driver.instance.snapshot(daemonized: false))
        let etcd = try #require(snapshot.etcd)
        #expect(etcd.grantedLease == 43)
        #expect(etcd.guardState.lease?.id == 43)

        // The successor, under the new settings, carries on with the new lease.
        var new = InstanceEtcdTests.driver(Self.moved())
        let later = now + .milliseconds(50)
        _ = new.link(.running, at: later)
        let resumed = new.carryOut(new.instance.resumed(from: snapshot, at: later), at: later)
        #expect(resumed.spawned.isEmpty)
        #expect(new.instance.reportedRole == .master)
        #expect(new.instance.etcdLease == 43)
        let renewal = try #require(etcd.guardState.lease?.nextRenewal)
        #expect(new.time(renewal).etcdRequests.map(\.call) == [.keepAlive(lease: 43)])
    }

    @Test func aKeyHeldByAnotherHostAtTheNewEndpointsRefusesTheReloadAndChangesNothing() throws {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        let refused = driver.answerMove(
            begun.actions, holder: "192.0.2.12 beta", lease: 77, at: now + .milliseconds(10))
        #expect(
            refused.settlements == [
                "etcd: the key \(InstanceEtcdTests.key) is held by 192.0.2.12 beta (lease 77) at the new endpoints"
            ])
        #expect(refused.etcdRequests.isEmpty)
        #expect(driver.instance.etcdMove == nil)
        #expect(driver.instance.reportedRole == .master)
        #expect(driver.instance.etcdLease == 42)
        #expect(try #require(driver.instance.snapshot(daemonized: false)?.etcd).grantedLease == 42)
    }

    @Test func theSameClusterReachedByOtherEndpointsKeepsTheLease() throws {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        let settled = driver.answerMove(
            begun.actions, holder: "192.0.2.11 alpha", lease: 42, at: now + .milliseconds(10))
        #expect(settled.settlements == [nil])
        #expect(settled.etcdRequests.isEmpty)
        #expect(settled.moveRequests.isEmpty)
        let etcd = try #require(driver.instance.snapshot(daemonized: false)?.etcd)
        #expect(etcd.grantedLease == 42)
        #expect(etcd.guardState.lease?.id == 42)
    }

    @Test func silentNewEndpointsRefuseAtTheBoundWhileTheOldLeaseIsRenewed() {
        var (driver, granted) = Self.master()
        let begun = driver.beginMove(to: Self.moved(), at: granted + .milliseconds(100))
        var all = begun.actions
        var now = granted + .milliseconds(100)
        // The old cluster answers; the new one refuses every connection.
        while all.settlements.isEmpty, let next = driver.instance.nextDeadline, next < granted + .seconds(10) {
            if next <= now {
                Issue.record("stuck at \(now): \(String(describing: driver.instance.etcdMove))")
                return
            }
            now = next
            var actions = driver.link(.running, at: now) + driver.time(now)
            while !actions.etcdRequests.isEmpty || !actions.moveRequests.isEmpty {
                all += actions
                var more: [Action] = []
                if !actions.etcdRequests.isEmpty { more += driver.answer(actions.etcdRequests, at: now) }
                for request in actions.moveRequests {
                    more += driver.carryOut(
                        driver.instance.etcdFailed(requestID: request.id, reason: "refused", at: now), at: now)
                }
                actions = more
            }
            all += actions
        }
        guard case .some(.some(let line)) = all.settlements.first else {
            Issue.record("not refused")
            return
        }
        #expect(line.hasPrefix("etcd: the new endpoints did not answer within 3 s"))
        #expect(Set(all.moveRequests.map(\.endpoint)) == [0, 1])
        #expect(all.etcdRequests.map(\.call).contains(.keepAlive(lease: 42)))
        #expect(!all.etcdRequests.map(\.call).contains(.revoke(lease: 42)))
        #expect(driver.instance.reportedRole == .master)
        #expect(driver.instance.etcdLease == 42)
    }

    @Test func aTermDuringTheMoveRevokesTheNewLeaseAndAnswersBusy() {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        let grant = driver.answerMove(begun.actions, at: now + .milliseconds(10))
        let acquire = driver.answerMove(grant, at: now + .milliseconds(20))
        #expect(acquire.moveRequests.map(\.call).first.map { if case .acquire = $0 { true } else { false } } == true)
        // The shell tells the instance the time after every event.
        let term = driver.signal(.terminate, at: now + .milliseconds(25)) + driver.time(now + .milliseconds(25))
        #expect(term.settlements == ["busy: the instance is leaving; try again"])
        #expect(term.moveRequests.map(\.call) == [.revoke(lease: 43)])
    }

    @Test func aMasterThatStepsDownDuringTheMoveAnswersBusy() {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        // USR2 (step down) makes us BACKUP before the new endpoints answer.
        let later = now + .milliseconds(5)
        let better = driver.signal(.user2, at: later) + driver.time(later)
        #expect(driver.instance.machine.role == .backup)
        #expect(better.settlements == ["busy: the instance left MASTER during the etcd move; try again"])
        #expect(better.cancelled.contains(begun.actions.moveRequests.first?.id ?? 0))
        #expect(driver.instance.etcdMove == nil)
    }

    @Test func aReloadWhileAnEarlierMoveWindsUpIsRefusedBusyAtOnce() {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        let grant = driver.answerMove(begun.actions, at: now + .milliseconds(10))
        _ = driver.answerMove(grant, at: now + .milliseconds(20))
        // Stepping down calls the move off: the new lease's revoke goes on the wire.
        let later = now + .milliseconds(30)
        let down = driver.signal(.user2, at: later) + driver.time(later)
        #expect(down.settlements == ["busy: the instance left MASTER during the etcd move; try again"])
        #expect(down.moveRequests.map(\.call) == [.revoke(lease: 43)])
        // The new lease's revoke is still on the wire.
        _ = driver.time(later + .milliseconds(5))
        #expect(driver.instance.etcdMove != nil)
        // A reload now is refused at once, not begun (the move would answer it never).
        #expect(driver.instance.reloadRefusal == .busy("an earlier etcd move is still winding up"))
    }

    @Test func aBackupTakesTheNewSettingsWithNothingToHandOver() throws {
        var driver = InstanceEtcdTests.driver()
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        #expect(driver.instance.machine.role == .backup)
        let begun = driver.beginMove(to: Self.moved(), at: t0 + .milliseconds(10))
        #expect(begun.plan == .begun)
        #expect(begun.actions.settlements == [nil])
        #expect(begun.actions.moveRequests.isEmpty && begun.actions.etcdRequests.isEmpty)
        let snapshot = try #require(driver.instance.snapshot(daemonized: false))
        #expect(snapshot.etcd == nil)
    }

    @Test func aBackupPromotedBeforeTheReexecutionIsNotHandedOverWithoutALease() {
        var driver = InstanceEtcdTests.driver()
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let begun = driver.beginMove(to: Self.moved(), at: t0 + .milliseconds(10))
        #expect(begun.actions.settlements == [nil])
        // The master is gone: this host becomes MASTER and is granted the OLD settings' key.
        while driver.instance.machine.role != .master, let deadline = driver.instance.nextDeadline,
            deadline < t0 + .seconds(60)
        {
            let actions = driver.link(.running, at: deadline) + driver.time(deadline)
            guard driver.instance.machine.role == .master else { continue }
            let acquire = driver.answer(actions.etcdRequests, at: deadline + .milliseconds(10))
            let granted = driver.answer(acquire.etcdRequests, at: deadline + .milliseconds(20))
            for (id, _) in granted.spawned { _ = driver.exited(id, .exited(0), at: deadline + .milliseconds(30)) }
        }
        #expect(driver.instance.reportedRole == .master)
        #expect(driver.instance.etcdLease == 42)
        // The move handed over nothing (a fresh guard): as MASTER that is a guard holding nothing.
        #expect(driver.instance.reloadRefusal == .busy("the instance became MASTER during the reload's etcd move"))
        #expect(driver.instance.snapshot(daemonized: false) == nil)
        // The reload does not go ahead: the move is wound up, the master keeps its lease.
        _ = driver.carryOut(driver.instance.etcdMoveFailed("busy", at: t0 + .seconds(61)), at: t0 + .seconds(61))
        #expect(driver.instance.etcdMove == nil)
        #expect(driver.instance.reportedRole == .master)
    }

    @Test func unchangedEtcdSettingsNeedNoMove() {
        var (driver, granted) = Self.master()
        let begun = driver.beginMove(to: InstanceEtcdTests.guarded { $0.advskew = 9 }, at: granted)
        #expect(begun.plan == .unchanged)
        #expect(begun.actions.isEmpty)
    }

    @Test func removingEtcdHandsNoLeaseOverAndKeepsRenewingTheOldUntilTheReexecution() throws {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: testSettings(), at: now)
        #expect(begun.actions.settlements == [nil])
        #expect(begun.actions.etcdRequests.isEmpty)
        #expect(driver.instance.reportedRole == .master)
        #expect(try #require(driver.instance.snapshot(daemonized: false)).etcd == nil)
        // Put off (at most 2 s): the old lease is renewed meanwhile, never revoked.
        let meanwhile = Self.runAnswered(&driver, from: now, until: now + .seconds(3))
        #expect(meanwhile.etcdRequests.map(\.call).contains(.keepAlive(lease: 42)))
        #expect(!meanwhile.etcdRequests.map(\.call).contains(.revoke(lease: 42)))
        #expect(driver.instance.etcdMoveReady)
    }

    @Test func aFailedExecutionWithoutEtcdCarriesOnAsMasterWithTheLease() {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        _ = driver.beginMove(to: testSettings(), at: now)
        let failed = driver.carryOut(
            driver.instance.etcdMoveFailed("cannot execute", at: now + .milliseconds(50)), at: now + .milliseconds(50))
        #expect(failed.etcdRequests.isEmpty && failed.spawned.isEmpty)
        #expect(driver.instance.etcdMove == nil)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.etcdLease == 42)
        let later = Self.runAnswered(&driver, from: now + .milliseconds(50), until: now + .seconds(4))
        #expect(later.etcdRequests.map(\.call).contains(.keepAlive(lease: 42)))
        #expect(driver.instance.machine.role == .master)
    }

    @Test func addingEtcdToAMasterTakesTheKeyFirst() throws {
        var driver = InstanceDriver()
        let master = driver.becomeMaster()
        let now = master + .milliseconds(100)
        let begun = driver.beginMove(to: InstanceEtcdTests.guarded(), at: now)
        let grant = driver.answerMove(begun.actions, at: now + .milliseconds(10))
        let acquire = driver.answerMove(grant, at: now + .milliseconds(20))
        let settled = driver.answerMove(acquire, at: now + .milliseconds(30))
        #expect(settled.settlements == [nil])
        let etcd = try #require(driver.instance.snapshot(daemonized: false)?.etcd)
        #expect(etcd.grantedLease == 43)
    }

    @Test func aPassingRefusalAfterTheMoveIsWaitedOutForAWhileThenUndoesIt() {
        var (driver, granted) = Self.master()
        let now = granted + .milliseconds(100)
        let begun = driver.beginMove(to: Self.moved(), at: now)
        let grant = driver.answerMove(begun.actions, at: now + .milliseconds(10))
        let acquire = driver.answerMove(grant, at: now + .milliseconds(20))
        let ready = now + .milliseconds(30)
        #expect(driver.answerMove(acquire, at: ready).settlements == [nil])
        let busy = ReloadCheck.Refusal.busy("a child process is still to be collected")
        #expect(driver.instance.etcdMoveWaitsOut(busy, readySince: ready, at: ready + .seconds(1)))
        #expect(!driver.instance.etcdMoveWaitsOut(.invalidConfiguration("x"), readySince: ready, at: ready))
        #expect(
            !driver.instance.etcdMoveWaitsOut(
                busy, readySince: ready, at: ready + Instance.etcdReadyRetryLimit))
        // Waiting out: the new lease goes on being renewed by the move, still MASTER.
        var renewals: [EtcdCall] = []
        var clock = ready
        while let next = driver.instance.nextDeadline, next < ready + .seconds(4) {
            clock = next
            let actions = driver.link(.running, at: clock) + driver.time(clock)
            renewals += actions.moveRequests.map(\.call)
            if !actions.moveRequests.isEmpty { _ = driver.answerMove(actions, at: clock + .milliseconds(5)) }
            if !actions.etcdRequests.isEmpty { _ = driver.answer(actions.etcdRequests, at: clock + .milliseconds(5)) }
        }
        #expect(renewals.contains(.keepAlive(lease: 43)))
        #expect(driver.instance.reportedRole == .master)
        #expect(driver.instance.etcdMoveReady)
    }

    @Test func aFailedExecutionAfterTheMoveRevokesTheNewLeaseAndCarriesOnAsMasterWithTheOld() {
        var (driver, ready) = Self.movedMaster()
        // execve returned: the new lease is revoked; the old one, never revoked, still holds.
        let now = ready + .milliseconds(50)
        let failed = driver.carryOut(driver.instance.etcdMoveFailed("cannot execute", at: now), at: now)
        #expect(failed.moveRequests.map(\.call) == [.revoke(lease: 43)])
        #expect(!failed.etcdRequests.map(\.call).contains(.revoke(lease: 42)))
        #expect(failed.spawned.isEmpty)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.etcdLease == 42)
        let revoked = driver.answerMove(failed, at: now + .milliseconds(5))
        #expect(revoked.settlements.isEmpty)
        #expect(driver.instance.etcdMove == nil)
        // The master carries on: the old guard renews lease 42, no script, still MASTER.
        let later = Self.runAnswered(&driver, from: now + .milliseconds(5), until: now + .seconds(4))
        #expect(later.etcdRequests.map(\.call).contains(.keepAlive(lease: 42)))
        #expect(later.spawned.isEmpty)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.etcdLease == 42)
        #expect(driver.instance.reloadRefusal == nil)
    }

    @Test func aNewLeaseLostBeforeTheReexecutionKeepsTheMasterWithItsOldLeaseAndStopsTheReload() throws {
        var (driver, ready) = Self.movedMaster()
        #expect(driver.instance.etcdMoveRefusal(to: Self.moved()) == nil)
        // The new cluster says the new lease is gone at its first renewal.
        var clock = ready
        var renewal: EtcdLeaseGuard.Request?
        while renewal == nil, let next = driver.instance.nextDeadline, next < ready + .seconds(3) {
            clock = max(next, clock + .milliseconds(1))
            let actions = driver.link(.running, at: clock) + driver.time(clock)
            if !actions.etcdRequests.isEmpty { _ = driver.answer(actions.etcdRequests, at: clock + .milliseconds(5)) }
            renewal = actions.moveRequests.first
        }
        let request = try #require(renewal)
        #expect(request.call == .keepAlive(lease: 43))
        let gone = driver.carryOut(
            driver.instance.etcdAnswered(
                status: 200, body: Array(#"{"result":{"ID":"43"}}"#.utf8), for: request.id, at: clock),
            at: clock)
        #expect(gone.spawned.isEmpty)
        #expect(driver.instance.etcdMove == nil)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.etcdLease == 42)
        // The reload pending for the new settings must not hand the old lease's state over.
        #expect(driver.instance.etcdMoveRefusal(to: Self.moved()) == .busy("the reload's etcd move was called off"))
        #expect(driver.instance.etcdMoveRefusal(to: InstanceEtcdTests.guarded { $0.advskew = 9 }) == nil)
    }

    @Test func aRefusalThatOutlastsTheWaitAfterTheMoveKeepsTheMasterWithItsOldLease() {
        var (driver, ready) = Self.movedMaster()
        let busy = ReloadCheck.Refusal.busy("a child process is still to be collected")
        let meanwhile = Self.runAnswered(&driver, from: ready, until: ready + Instance.etcdReadyRetryLimit)
        // Both leases renewed while the refusal is waited out.
        #expect(meanwhile.etcdRequests.map(\.call).contains(.keepAlive(lease: 42)))
        #expect(meanwhile.moveRequests.map(\.call).contains(.keepAlive(lease: 43)))
        let end = ready + Instance.etcdReadyRetryLimit
        #expect(!driver.instance.etcdMoveWaitsOut(busy, readySince: ready, at: end))
        let undone = driver.carryOut(driver.instance.etcdMoveFailed(busy.description, at: end), at: end)
        #expect(undone.moveRequests.map(\.call) == [.revoke(lease: 43)])
        #expect(undone.spawned.isEmpty)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.etcdLease == 42)
    }
}

extension InstanceDriver {
    mutating func beginMove(to new: Settings, at now: MonotonicInstant) -> (
        plan: Instance.EtcdMovePlan, actions: [Action]
    ) {
        let (plan, actions) = instance.beginEtcdMove(to: new, hostName: "alpha", at: now)
        return (plan, carryOut(actions, at: now))
    }

    /// The new cluster's answer to the move's request among `actions`.
    mutating func answerMove(
        _ actions: [Action], holder: String? = nil, lease: Int64 = 77, at now: MonotonicInstant
    ) -> [Action] {
        guard let request = actions.moveRequests.last else {
            Issue.record("no move request to answer")
            return []
        }
        let (status, body) = InstanceEtcdMoveTests.answer(to: request.call, holder: holder, lease: lease)
        return carryOut(
            instance.etcdAnswered(status: status, body: Array(body.utf8), for: request.id, at: now), at: now)
    }
}

extension [Action] {
    var moveRequests: [EtcdLeaseGuard.Request] {
        compactMap {
            guard case .etcdMoveRequest(let request) = $0 else { return nil }
            return request
        }
    }

    var settlements: [String?] {
        compactMap {
            guard case .etcdMoveSettled(let refusal) = $0 else { return nil }
            return .some(refusal)
        }
    }

    var cancelled: [UInt64] {
        compactMap {
            guard case .etcdCancel(let id) = $0 else { return nil }
            return id
        }
    }
}
