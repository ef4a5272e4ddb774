import CARPCore
import EtcdGuard
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// Reloading in place: the state a process hands its successor, read back; the successor
/// carrying on without a transition; what a reload refuses.
@Suite struct InstanceReloadTests {
    // MARK: The encoding

    @Test(arguments: [
        CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0 + .milliseconds(700), announcements: .none), counter: 1234, healthy: true,
            preemptsFrom: t0),
        CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0, announcements: .withAdvertisement(countdown: 2, thenMore: 1)), counter: 1,
            healthy: nil, preemptsFrom: nil),
        CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0, announcements: .at(t0 + .seconds(1), thenMore: 0)), counter: 1,
            healthy: nil, preemptsFrom: nil),
        CARPStateMachine.Snapshot(
            role: .backup(.masterDown(t0 + .seconds(3)), holdUntil: t0 + .seconds(1)), counter: nil, healthy: nil,
            preemptsFrom: nil),
        CARPStateMachine.Snapshot(
            role: .backup(.masterLeft(t0 + .milliseconds(400)), holdUntil: nil), counter: 9, healthy: nil,
            preemptsFrom: nil),
        CARPStateMachine.Snapshot(
            role: .backup(.unarmed, holdUntil: nil), counter: 7, healthy: false, preemptsFrom: nil),
        CARPStateMachine.Snapshot(
            role: .backup(.noCarrier, holdUntil: nil), counter: .max, healthy: true, preemptsFrom: nil),
        CARPStateMachine.Snapshot(role: .fault(.up), counter: 1, healthy: false, preemptsFrom: nil),
        CARPStateMachine.Snapshot(role: .fault(.down), counter: nil, healthy: false, preemptsFrom: t0),
    ])
    func snapshotReadsBackAsWritten(machine: CARPStateMachine.Snapshot) throws {
        for daemonized in [false, true] {
            let snapshot = InstanceSnapshot(machine: machine, daemonized: daemonized)
            #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
        }
    }

    @Test func theEtcdGuardReadsBackAsWritten() throws {
        let machine = CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0, announcements: .none), counter: 3, healthy: true, preemptsFrom: nil)
        let held = EtcdLeaseGuard.Snapshot(
            lease: .init(id: 42, ttl: .seconds(3), confirmedSend: t0, nextRenewal: t0 + .seconds(1)), holdsKey: true,
            isMaster: true, wanting: true)
        let idle = EtcdLeaseGuard.Snapshot(lease: nil, holdsKey: false, isMaster: false, wanting: false)
        for etcd in [
            InstanceSnapshot.Etcd(guardState: held, grantedLease: 42),
            InstanceSnapshot.Etcd(guardState: idle, grantedLease: nil),
        ] {
            let snapshot = InstanceSnapshot(machine: machine, etcd: etcd)
            #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
        }
    }

    @Test func theSentinelsPipeGoesAcrossByNumber() throws {
        let machine = CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0, announcements: .none), counter: 3, healthy: true, preemptsFrom: nil)
        var snapshot = InstanceSnapshot(machine: machine)
        #expect(try InstanceSnapshot(decoding: snapshot.encoded).sentinel == nil)
        snapshot.sentinel = 9
        #expect(snapshot.encoded.contains("sentinel=9\n"))
        #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
        // Standard input, output or error cannot be it.
        snapshot.sentinel = 1
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "sentinel", value: "1")) {
            try InstanceSnapshot(decoding: snapshot.encoded)
        }
    }

    /// The successor retires the sentinel for a fresh one and reaps it: its pid goes across,
    /// and those retired and not yet reaped; a predecessor without these lines has none.
    @Test func theSentinelsPidAndTheRetiredOnesGoAcross() throws {
        let machine = CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0, announcements: .none), counter: 3, healthy: true, preemptsFrom: nil)
        var snapshot = InstanceSnapshot(machine: machine)
        snapshot.sentinel = 9
        let decoded = try InstanceSnapshot(decoding: snapshot.encoded)
        #expect(decoded.sentinelPID == nil && decoded.retiredSentinels.isEmpty)
        snapshot.sentinelPID = 4242
        snapshot.retiredSentinels = [17, 4200]
        #expect(snapshot.encoded.contains("sentinel-pid=4242\nsentinels-retired=17 4200\n"))
        #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
        snapshot.retiredSentinels = [0]
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "sentinels-retired", value: "0")) {
            try InstanceSnapshot(decoding: snapshot.encoded)
        }
    }

    @Test func snapshotOfAnotherVersionIsRefusedNamingBoth() {
        let text = "swiftcarp-state 2\nrole=master\nadvertise-at=5\n"
        #expect(throws: InstanceSnapshot.DecodingError.unknownVersion("2")) { try InstanceSnapshot(decoding: text) }
        #expect(
            InstanceSnapshot.DecodingError.unknownVersion("2").description
                == "the state handed over is of version 2; this binary reads version 1")
    }

    @Test func brokenSnapshotsAreRefusedNamingWhat() {
        #expect(throws: InstanceSnapshot.DecodingError.notASnapshot) { try InstanceSnapshot(decoding: "") }
        #expect(throws: InstanceSnapshot.DecodingError.missing("role")) {
            try InstanceSnapshot(decoding: "swiftcarp-state 1\ncounter=5\n")
        }
        #expect(throws: InstanceSnapshot.DecodingError.missing("advertise-at")) {
            try InstanceSnapshot(decoding: "swiftcarp-state 1\nrole=master\n")
        }
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "counter", value: "-1")) {
            try InstanceSnapshot(decoding: "swiftcarp-state 1\nrole=master\nadvertise-at=5\ncounter=-1\n")
        }
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "role", value: "leader")) {
            try InstanceSnapshot(decoding: "swiftcarp-state 1\nrole=leader\n")
        }
    }

    // MARK: Carrying on

    /// A master handed over: no script, no announcement, no state change; its next
    /// advertisement on the deadline the predecessor had, with the next counter and the new skew.
    @Test func resumedMasterAdvertisesOnTheOldDeadlineWithoutScripts() throws {
        var old = InstanceDriver()
        let mastered = old.becomeMaster()
        _ = old.run(until: mastered + .milliseconds(2500))
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        guard case .master(let advertiseAt, _) = snapshot.machine.role else {
            Issue.record("expected a master, got \(snapshot.machine.role)")
            return
        }
        let counter = try #require(snapshot.machine.counter)
        let now = mastered + .milliseconds(2600)

        var new = InstanceDriver(testSettings { $0.advskew = 40 })
        _ = new.link(.running, at: now)
        let resumed = new.carryOut(new.instance.resumed(from: snapshot, at: now), at: now)
        #expect(resumed.spawned.isEmpty)
        #expect(!resumed.contains(.announceAddresses))
        #expect(!resumed.contains { if case .recordState = $0 { true } else { false } })
        #expect(resumed.messages == ["Reloaded: carrying on as MASTER on eth0 id 1"])
        #expect(new.instance.machine.role == .master)
        #expect(new.instance.nextDeadline == advertiseAt)

        let advert = new.time(advertiseAt)
        #expect(
            advert.contains(.sendAdvertisement(advbase: 1, advskew: 40, counter: counter &+ CARPWire.counterStride)))
        #expect(advert.spawned.isEmpty)
        #expect(!advert.contains(.announceAddresses))
    }

    /// A backup handed over keeps timing the master from where it was: no script, no takeover.
    @Test func resumedBackupKeepsItsMasterDownDeadline() throws {
        var old = InstanceDriver()
        for (id, _) in old.start().spawned { _ = old.exited(id, .exited(0), at: t0) }
        _ = old.advert(advskew: 0, at: t0 + .milliseconds(500))
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        let deadline = try #require(old.instance.machine.state.backupMasterDownAt)

        var new = InstanceDriver()
        let now = t0 + .milliseconds(600)
        _ = new.link(.running, at: now)
        let resumed = new.carryOut(new.instance.resumed(from: snapshot, at: now), at: now)
        #expect(resumed.spawned.isEmpty)
        #expect(new.instance.machine.role == .backup)
        #expect(new.instance.machine.state.backupMasterDownAt == deadline)
        // The master goes on advertising: the backup stays.
        _ = new.advert(advskew: 0, at: t0 + .milliseconds(1500))
        #expect(new.instance.machine.role == .backup)
    }

    /// A master handed over between the two gratuitous ARPs of its term still sends the second
    /// with the second advertisement, as it would have.
    @Test func anAnnouncementOwedIsStillSent() throws {
        var old = InstanceDriver()
        let mastered = old.becomeMaster()
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        guard case .master(_, .withAdvertisement) = snapshot.machine.role else {
            Issue.record("expected an announcement owed, got \(snapshot.machine.role)")
            return
        }
        var new = InstanceDriver()
        let now = mastered + .milliseconds(10)
        _ = new.link(.running, at: now)
        _ = new.carryOut(new.instance.resumed(from: snapshot, at: now), at: now)
        let after = new.run(until: mastered + .seconds(4))
        #expect(after.filter { $0 == .announceAddresses }.count == 1)
        #expect(after.spawned.isEmpty)
    }

    @Test func resumingTwiceOrAfterStartingDoesNothing() throws {
        var old = InstanceDriver()
        _ = old.becomeMaster()
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        var new = InstanceDriver()
        _ = new.start()
        #expect(new.instance.resumed(from: snapshot, at: t0).isEmpty)
        #expect(new.instance.machine.role == .backup)
    }

    // MARK: Refusals

    /// The scripts' queue goes across: the up script still running (its pid with it), the
    /// notify script queued behind it; its end starts the next, and the gratuitous ARP held
    /// for it goes out then.
    @Test func theScriptsQueueGoesAcrossWithTheRunningScript() throws {
        var old = InstanceDriver(testSettings { $0.notify = ["/etc/notify"] })
        let started = old.start()
        for (id, _) in started.spawned { _ = old.exited(id, .exited(0), at: t0) }
        // The BACKUP notify, queued behind the down script, runs now.
        old.finishScripts(at: t0)
        var mastered = t0
        while old.instance.machine.role != .master, let deadline = old.instance.nextDeadline {
            _ = old.link(.running, at: deadline) + old.time(deadline)
            mastered = deadline
        }
        #expect(old.instance.reloadRefusal == nil)
        #expect(old.instance.snapshot(daemonized: false) == nil, "no pid, no snapshot")
        let snapshot = try #require(old.instance.snapshot(daemonized: false) { _ in 4321 })
        let decoded = try InstanceSnapshot(decoding: snapshot.encoded)
        #expect(decoded == snapshot)
        let (id, pid) = try #require(decoded.runningChildren.first)
        #expect(pid == 4321)
        #expect(decoded.scripts.running?.script.path == "/etc/up")
        #expect(decoded.scripts.queued.map(\.path) == ["/etc/notify"])
        #expect(decoded.scripts.announcementHeld)

        var new = InstanceDriver(testSettings { $0.notify = ["/etc/notify"] })
        let now = mastered + .milliseconds(20)
        _ = new.link(.running, at: now)
        let resumed = new.carryOut(new.instance.resumed(from: decoded, at: now), at: now)
        #expect(resumed.contains(.reapChildren))
        #expect(resumed.spawned.isEmpty)
        let ended = new.exited(id, .exited(0), at: now + .milliseconds(5))
        #expect(ended.spawnedPaths == ["/etc/notify"])
        #expect(ended.contains(.announceAddresses))
        #expect(ended.spawned.first?.0 != id, "a new child ID, not one the predecessor used")
    }

    /// The health check goes across: the verdict and the streak (one failure after the reload
    /// does not make a healthy master FAULT with fall 2), the check running adopted by pid.
    @Test func theHealthCheckGoesAcrossWithItsVerdictAndTheCheckRunning() throws {
        let settings = testSettings { $0.check = "true" }
        var old = InstanceDriver(settings)
        // Every child ends at once and well until MASTER (the checks pass: healthy).
        var now = t0
        for (id, _) in old.start().spawned { _ = old.exited(id, .exited(0), at: now) }
        while old.instance.machine.role != .master, let deadline = old.instance.nextDeadline,
            deadline < t0 + .seconds(60)
        {
            now = deadline
            for (id, _) in (old.link(.running, at: now) + old.time(now)).spawned {
                _ = old.exited(id, .exited(0), at: now)
            }
        }
        #expect(old.instance.machine.role == .master)
        // Then a check starts and is still running at the reload.
        var checking = now
        while old.instance.health?.running == nil, let deadline = old.instance.nextDeadline,
            deadline < now + .seconds(10)
        {
            checking = deadline
            for (id, command) in (old.link(.running, at: checking) + old.time(checking)).spawned
            where command.path != "/bin/sh" {
                _ = old.exited(id, .exited(0), at: checking)
            }
        }
        let check = try #require(old.instance.health?.running?.id)
        let snapshot = try #require(old.instance.snapshot(daemonized: false) { $0 == check ? 777 : nil })
        let decoded = try InstanceSnapshot(decoding: snapshot.encoded)
        #expect(decoded == snapshot)
        #expect(decoded.health?.healthy == true)
        #expect(decoded.runningChildren.map(\.pid) == [777])

        var new = InstanceDriver(settings)
        let at = checking + .milliseconds(10)
        _ = new.link(.running, at: at)
        let resumed = new.carryOut(new.instance.resumed(from: decoded, at: at), at: at)
        #expect(resumed.contains(.reapChildren))
        #expect(resumed.spawned.isEmpty, "the check running is not started again")
        // It fails: one failure of fall 2, still MASTER.
        _ = new.exited(check, .exited(1), at: at + .milliseconds(5))
        #expect(new.instance.machine.role == .master)
    }

    @Test func scriptsWithAnyBytesReadBack() throws {
        let script = ScriptQueue.Script(
            path: "/etc/ucarp/vip up", arguments: ["eth0", "192.0.2.100", "two words=%\n"],
            environment: [.init("CARP_XPARAM", "a b\nc=d%"), .init("EMPTY", "")], addsAddress: true,
            removesAddress: false)
        let encoded = InstanceSnapshot.Scripts.encode(script)
        #expect(!encoded.contains("\n") && !encoded.contains("="))
        #expect(try InstanceSnapshot.Scripts.decode(encoded, key: "k") == script)
        #expect(throws: InstanceSnapshot.DecodingError.self) {
            try InstanceSnapshot.Scripts.decode("- /bin/x 2 only-one", key: "k")
        }
    }

    @Test func aStartingOrLeavingInstanceIsNotHandedOver() {
        let fresh = InstanceDriver()
        #expect(fresh.instance.reloadRefusal == .busy("the instance is starting"))
        #expect(fresh.instance.snapshot(daemonized: false) == nil)
        var leaving = InstanceDriver(testSettings { $0.shutdown = true })
        let mastered = leaving.becomeMaster()
        _ = leaving.signal(.terminate, at: mastered + .milliseconds(10))
        #expect(leaving.instance.reloadRefusal?.isTransient == true)
    }

    /// A granted master under `--etcd` handed over: still MASTER on the same lease, no grant or
    /// acquire asked again, the next renewal on the deadline it had.
    @Test func aGuardedMasterKeepsItsLeaseAndRenewsItOnTime() throws {
        var old = InstanceEtcdTests.driver()
        let granted = InstanceEtcdTests.master(&old)
        #expect(old.instance.reloadRefusal == nil)
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        let etcd = try #require(snapshot.etcd)
        #expect(etcd.grantedLease == 42)
        let renewal = try #require(etcd.guardState.lease?.nextRenewal)

        var new = InstanceEtcdTests.driver()
        let now = granted + .milliseconds(50)
        _ = new.link(.running, at: now)
        let resumed = new.carryOut(new.instance.resumed(from: snapshot, at: now), at: now)
        #expect(resumed.spawned.isEmpty)
        #expect(resumed.etcdRequests.isEmpty)
        #expect(new.instance.reportedRole == .master)
        #expect(new.instance.etcdLease == 42)
        let renewed = new.time(renewal)
        #expect(renewed.etcdRequests.map(\.call) == [.keepAlive(lease: 42)])
        #expect(renewed.spawned.isEmpty)
    }

    /// While a request is on the wire (the first grant), the reload waits.
    @Test func aGuardWithARequestOnTheWireIsBusy() {
        var driver = InstanceEtcdTests.driver()
        _ = InstanceEtcdTests.wouldBeMaster(&driver)
        guard case .busy(let why) = driver.instance.reloadRefusal else {
            Issue.record("expected busy, got \(String(describing: driver.instance.reloadRefusal))")
            return
        }
        #expect(why.contains("etcd"))
        #expect(driver.instance.snapshot(daemonized: false) == nil)
    }

    @Test func anotherInstanceIsRefusedNamingTheChange() throws {
        let old = testSettings()
        #expect(
            ReloadCheck.identityChange(from: old, to: testSettings { $0.advskew = 100 }, interfaceName: "eth0") == nil)
        #expect(
            ReloadCheck.identityChange(from: old, to: testSettings { $0.vhid = 2 }, interfaceName: "eth0")
                == .differentInstance(what: "the vhid", from: "1", to: "2"))
        #expect(
            ReloadCheck.identityChange(from: old, to: testSettings { $0.interface = "eth1" }, interfaceName: "eth0")
                == .differentInstance(what: "the interface", from: "eth0", to: "eth1"))
        let moreAddresses = testSettings {
            $0.virtualAddresses.append(.ipv4(IPv4Address(192, 0, 2, 101)))
            $0.virtualAddressArguments.append("192.0.2.101")
        }
        #expect(
            ReloadCheck.identityChange(from: old, to: moreAddresses, interfaceName: "eth0")
                == .differentInstance(
                    what: "the set of addresses", from: "192.0.2.100", to: "192.0.2.100 192.0.2.101"))
        let six = try IPv6Address(parsing: "2001:db8::11")
        let sixes = testSettings { $0.sourceAddress = .ipv6(six) }
        #expect(
            ReloadCheck.identityChange(from: old, to: sixes, interfaceName: "eth0")
                == .differentInstance(what: "the address family", from: "IPv4", to: "IPv6"))
        #expect(
            ReloadCheck.Refusal.differentInstance(what: "the vhid", from: "1", to: "2").description
                == "the vhid changed (1 -> 2): that is another instance; restart it instead")
        // Other etcd settings are the same instance: the lease moves (Instance+EtcdMove).
        let etcd = testSettings { $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.50:2379"]) }
        #expect(ReloadCheck.identityChange(from: old, to: etcd, interfaceName: "eth0") == nil)
        let moved = testSettings { $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.51:2379"]) }
        #expect(ReloadCheck.identityChange(from: etcd, to: moved, interfaceName: "eth0") == nil)
        #expect(Instance.etcdMoves(from: old, to: etcd))
        #expect(Instance.etcdMoves(from: etcd, to: moved))
        var otherKey = etcd
        otherKey.etcd?.lock = "/elsewhere"
        #expect(Instance.etcdMoves(from: etcd, to: otherKey))
        var otherTTL = etcd
        otherTTL.etcd?.ttl = 9
        #expect(!Instance.etcdMoves(from: etcd, to: otherTTL))
    }
}

extension CARPStateMachine.State {
    fileprivate var backupMasterDownAt: MonotonicInstant? {
        if case .backup(let backup) = self { backup.masterDownAt } else { nil }
    }
}
