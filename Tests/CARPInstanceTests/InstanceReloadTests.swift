import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// Reloading in place: the state a process hands its successor, read back; the successor
/// carrying on without a transition; what a reload refuses.
@Suite struct InstanceReloadTests {
    // MARK: The encoding

    @Test(arguments: [
        CARPStateMachine.Snapshot(
            role: .master(advertiseAt: t0 + .milliseconds(700)), counter: 1234, healthy: true, preemptsFrom: t0),
        CARPStateMachine.Snapshot(
            role: .backup(.masterDown(t0 + .seconds(3)), holdUntil: t0 + .seconds(1)), counter: nil, healthy: nil,
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
        guard case .master(let advertiseAt) = snapshot.machine.role else {
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

    @Test func aReloadWaitsForRunningScripts() {
        var driver = InstanceDriver()
        _ = driver.becomeMaster(keepScriptRunning: true)
        #expect(driver.instance.reloadRefusal == .busy("a script is running or queued"))
        #expect(driver.instance.reloadRefusal?.isTransient == true)
        var quiet = InstanceDriver()
        _ = quiet.becomeMaster()
        #expect(quiet.instance.reloadRefusal == nil)
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

    @Test func underEtcdTheReloadIsRefusedAsNotHandedOver() {
        let settings = testSettings { $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.50:2379"]) }
        var driver = InstanceDriver(settings)
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        guard case .unsupported(let why) = driver.instance.reloadRefusal else {
            Issue.record("expected unsupported, got \(String(describing: driver.instance.reloadRefusal))")
            return
        }
        #expect(why.contains("--etcd"))
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
        let etcd = testSettings { $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.50:2379"]) }
        guard case .unsupported = ReloadCheck.identityChange(from: old, to: etcd, interfaceName: "eth0") else {
            Issue.record("adding --etcd is not refused")
            return
        }
    }
}

extension CARPStateMachine.State {
    fileprivate var backupMasterDownAt: MonotonicInstant? {
        if case .backup(let backup) = self { backup.masterDownAt } else { nil }
    }
}
