import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// A reload meets `--auth=strict` and the host's groups: the counters, the record `--status`
/// shows and the demotion go across, and a change of `--auth` is applied cleanly.
@Suite struct InstanceReloadCarriesOnTests {
    static let epoch: UInt64 = 1_700_000_000 << 32

    /// A driver whose instance runs `--auth=strict` (or `mode`), its first counter `first`, its
    /// window starting from `peers` (as the `--auth-state` file gives them).
    static func driver(
        _ mode: AuthenticationMode = .strict, first: UInt64 = epoch, peers: [StrictState.Peer] = [],
        _ adjust: (inout Settings) -> Void = { _ in }
    ) -> InstanceDriver {
        var driver = InstanceDriver()
        let settings = testSettings {
            $0.authentication = mode
            adjust(&$0)
        }
        driver.instance = Instance(
            settings: settings, interfaceName: "eth0", initialCounter: first, version: "9.9.9", strictPeers: peers)
        driver.instance.addressWatchStarted(interfaceIndex: InstanceDriver.interfaceIndex)
        return driver
    }

    static func resume(_ driver: inout InstanceDriver, from snapshot: InstanceSnapshot, at now: MonotonicInstant)
        -> [Action]
    {
        _ = driver.link(.running, at: now)
        return driver.carryOut(driver.instance.resumed(from: snapshot, at: now), at: now)
    }

    // MARK: --auth=strict

    /// The master's counter carries on one above the last it sent (not from the new epoch the
    /// successor's start wrote), and the state goes to the `--auth-state` file at once.
    @Test func aStrictMastersCounterCarriesOnAndKeepsGoingUp() throws {
        var old = Self.driver()
        let mastered = old.becomeMaster()
        _ = old.run(until: mastered + .milliseconds(2500))
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        let last = try #require(snapshot.machine.counter)
        #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
        guard case .master(let advertiseAt, _) = snapshot.machine.role else {
            Issue.record("expected a master")
            return
        }

        var new = Self.driver(first: Self.epoch + (1 << 32))
        let resumed = Self.resume(&new, from: snapshot, at: mastered + .milliseconds(2600))
        #expect(resumed.contains(.recordStrictState(StrictState(epoch: 1_700_000_000, peers: []))))
        #expect(resumed.messages(at: .warning).isEmpty)
        let advert = new.time(advertiseAt)
        #expect(advert.contains(.sendAdvertisement(advbase: 1, advskew: 0, counter: last + 1)))
    }

    /// A backup's window: the peers' highest counters go across exactly, so a replay of an
    /// advert between what the file kept and what was last accepted is still dropped, and the
    /// master's next advert is taken.
    @Test func theBackupsWindowGoesAcrossExactly() throws {
        let master = IPv4Address(192, 0, 2, 2)
        var old = Self.driver(peers: [.init(source: .ipv4(master), counter: 10)])
        for (id, _) in old.start().spawned { _ = old.exited(id, .exited(0), at: t0) }
        for counter in UInt64(11)...20 {
            _ = old.frame(
                .accepted(.init(source: master, advbase: 1, advskew: 0, counter: counter)),
                at: t0 + .milliseconds(50 * counter))
        }
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        #expect(snapshot.machine.strictPeers == [.init(source: .ipv4(master), counter: 20)])
        #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)

        // The successor's file still says 10 (the window is written when a peer starts).
        var new = Self.driver(first: Self.epoch + (1 << 32), peers: [.init(source: .ipv4(master), counter: 10)])
        let now = t0 + .seconds(1)
        let resumed = Self.resume(&new, from: snapshot, at: now)
        #expect(
            resumed.contains(
                .recordStrictState(
                    StrictState(epoch: 1_700_000_001, peers: [.init(source: .ipv4(master), counter: 20)]))))
        let armed = new.instance.machine.nextDeadline
        let deadline = try #require(armed)
        _ = new.frame(.accepted(.init(source: master, advbase: 1, advskew: 0, counter: 15)), at: now)
        #expect(new.instance.statistics.dropped[.replayed] == 1)
        let unchanged = new.instance.machine.nextDeadline
        #expect(unchanged == deadline)
        _ = new.frame(
            .accepted(.init(source: master, advbase: 1, advskew: 0, counter: 21)), at: now + .milliseconds(500))
        #expect(new.instance.statistics.dropped[.replayed] == 1)
        let rearmed = new.instance.machine.nextDeadline
        #expect(try #require(rearmed) > deadline)
        #expect(new.instance.machine.role == .backup)
    }

    /// `--auth` changed by the reload: applied, the counter of the new mode from the next
    /// advert on (a ucarp counter is random; a strict one must start at its epoch), said once.
    @Test(arguments: [(AuthenticationMode.ucarp, AuthenticationMode.strict), (.strict, .ucarp)])
    func aChangeOfAuthIsAppliedWithACounterOfTheNewMode(from: AuthenticationMode, to: AuthenticationMode) throws {
        var old = Self.driver(from, first: from == .strict ? Self.epoch : 0xFFFF_FFFF_0000_0000)
        let mastered = old.becomeMaster()
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        #expect(snapshot.machine.authentication == from)
        guard case .master(let advertiseAt, _) = snapshot.machine.role else {
            Issue.record("expected a master")
            return
        }
        let first: UInt64 = to == .strict ? Self.epoch + (5 << 32) : 777
        var new = Self.driver(to, first: first)
        let resumed = Self.resume(&new, from: snapshot, at: mastered + .milliseconds(10))
        #expect(new.instance.machine.role == .master)
        #expect(
            resumed.messages(at: .warning) == [
                "Reloaded with --auth=\(to) instead of \(from): a counter of the new mode from now on; peers still in \(from) mode drop our adverts until they change too"
            ])
        #expect(new.time(advertiseAt).contains(.sendAdvertisement(advbase: 1, advskew: 0, counter: first)))
    }

    // MARK: The host's record and the group

    /// `--status` after a reload: the reason and the peer of the predecessor, not "startup".
    @Test func theRecordKeepsItsReasonAndPeer() throws {
        var old = InstanceDriver()
        for (id, _) in old.start().spawned { _ = old.exited(id, .exited(0), at: t0) }
        _ = old.advert(advskew: 0, at: t0 + .milliseconds(500))
        let before = old.instance.hostRecord(pid: 9, since: 5)
        #expect(before.reason == "startup")
        #expect(before.peer != nil)
        // A master with a reason of its own, and no peer heard since.
        var master = InstanceDriver()
        _ = master.becomeMaster()
        let mastered = master.instance.hostRecord(pid: 9, since: 5)
        #expect(mastered.reason != "startup")

        for (driver, record) in [(old, before), (master, mastered)] {
            let snapshot = try #require(driver.instance.snapshot(daemonized: false))
            #expect(try InstanceSnapshot(decoding: snapshot.encoded) == snapshot)
            var new = InstanceDriver()
            _ = Self.resume(&new, from: try InstanceSnapshot(decoding: snapshot.encoded), at: t0 + .seconds(4))
            #expect(new.instance.hostRecord(pid: 9, since: 5) == record)
        }
    }

    /// A master demoted by maintenance that holds the address anyway (no other host) is still
    /// master after a reload: the group's first reading finds the counter it advertised with.
    @Test func aDemotedMasterIsNotDemotedAgainByAReload() throws {
        var old = InstanceDriver(testSettings { $0.handOverWait = .seconds(2) })
        let since = old.becomeMaster()
        _ = old.carryOut(old.instance.hostStateRead(maintenance: true, members: nil, at: since), at: since)
        _ = old.run(until: since + .seconds(10))
        old.finishScripts(at: since + .seconds(10))
        #expect(old.instance.machine.role == .master)
        #expect(old.instance.machine.effectiveSkew == 240)
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        #expect(snapshot.machine.demotion == 240)

        var new = InstanceDriver(testSettings { $0.handOverWait = .seconds(2) })
        let now = since + .seconds(10) + .milliseconds(10)
        _ = Self.resume(&new, from: try InstanceSnapshot(decoding: snapshot.encoded), at: now)
        let read = new.carryOut(new.instance.hostStateRead(maintenance: true, members: nil, at: now), at: now)
        #expect(read.isEmpty)
        #expect(new.instance.machine.role == .master)
        #expect(new.instance.hostRecord(pid: 7, since: 0).causes == [.maintenance])
        #expect(new.instance.hostRecord(pid: 7, since: 0).counter == 240)
    }

    /// USR2's hold, the group's own cause, carries on: the member stays demoted until it ends.
    @Test func theStepDownHoldStillDemotesTheGroup() throws {
        let grouped = testSettings {
            $0.hostGroup = "router"
            $0.handOverWait = .seconds(2)
        }
        var old = InstanceDriver(grouped)
        let since = old.becomeMaster()
        _ = old.signal(.user2, at: since)
        old.finishScripts(at: since)
        _ = old.carryOut(old.instance.hostStateRead(maintenance: false, members: [], at: since), at: since)
        #expect(old.instance.hostRecord(pid: 7, since: 0).causes == [.stepDown])
        let snapshot = try #require(old.instance.snapshot(daemonized: false))

        var new = InstanceDriver(grouped)
        let now = since + .milliseconds(100)
        _ = Self.resume(&new, from: try InstanceSnapshot(decoding: snapshot.encoded), at: now)
        _ = new.carryOut(new.instance.hostStateRead(maintenance: false, members: [], at: now), at: now)
        #expect(new.instance.hostRecord(pid: 7, since: 0).causes == [.stepDown])
        #expect(new.instance.machine.demotion == 240)
        let later = since + .seconds(4)
        _ = new.carryOut(new.instance.hostStateRead(maintenance: false, members: [], at: later), at: later)
        #expect(new.instance.hostRecord(pid: 7, since: 0).causes == [])
        #expect(new.instance.machine.demotion == 0)
    }

    @Test func badHostAndStrictLinesAreRefusedNamingThem() {
        let head = "swiftcarp-state 1\nrole=master\nadvertise-at=5\n"
        for (line, key) in [
            ("auth=weak", "auth"), ("strict-peers=1", "strict-peer-0"), ("strict-peers=99", "strict-peers"),
            ("demotion=-1", "demotion"), ("last-peer=nowhere", "last-peer"), ("last-reason=because", "last-reason"),
            ("host-record=relative", "host-record"),
        ] {
            do {
                _ = try InstanceSnapshot(decoding: head + line + "\n")
                Issue.record("accepted \(line)")
            } catch {
                #expect(error.description.contains(key), "\(line): \(error.description)")
            }
        }
    }

    /// A predecessor of the same version without the new keys (a package upgrade from it):
    /// read as it meant, its counter carried on in the successor's mode.
    @Test func aSnapshotWithoutTheNewKeysIsReadAsBefore() throws {
        let snapshot = try InstanceSnapshot(decoding: "swiftcarp-state 1\nrole=master\nadvertise-at=5\ncounter=9\n")
        #expect(snapshot.machine.authentication == nil)
        #expect(snapshot.machine.strictPeers == nil)
        #expect(snapshot.machine.demotion == 0)
        #expect(snapshot.host == InstanceSnapshot.Host())
        var new = Self.driver(first: Self.epoch)
        _ = Self.resume(&new, from: snapshot, at: t0)
        #expect(new.instance.machine.counter == 9)
    }
}
