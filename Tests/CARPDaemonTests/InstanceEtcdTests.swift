import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPDaemon
@testable import EtcdGuard

/// `--etcd` in the instance: MASTER only once the key is ours, BACKUP reported until then, the
/// lease lost leaves at once, a planned departure lets the lease go before the address.
@Suite struct InstanceEtcdTests {
    static let key = "/swiftcarp/1/192.0.2.100"

    static func guarded(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        testSettings {
            $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.1:2379"])
            adjust(&$0)
        }
    }

    /// What a single etcd member answers: a lease of TTL 3, the key free unless `holder` has it.
    static func answer(to call: EtcdCall, holder: String? = nil) -> (Int, String) {
        switch call {
        case .grant: (200, #"{"ID":"42","TTL":"3"}"#)
        case .acquire:
            if let holder {
                (
                    200,
                    #"{"responses":[{"response_range":{"kvs":[{"key":"a2V5","value":""#
                        + Array(holder.utf8).base64 + #"","lease":"77"}]}}]}"#
                )
            } else {
                (200, #"{"succeeded":true}"#)
            }
        case .keepAlive: (200, #"{"result":{"ID":"42","TTL":"3"}}"#)
        case .revoke: (200, #"{"header":{}}"#)
        case .authenticate: (200, #"{"token":"t"}"#)
        case .read:
            if let holder {
                (
                    200,
                    #"{"kvs":[{"key":"a2V5","value":""# + Array(holder.utf8).base64 + #"","lease":"77"}],"count":"1"}"#
                )
            } else {
                (200, #"{"header":{}}"#)
            }
        }
    }

    /// A driver whose host is called alpha.
    static func driver(_ settings: Settings = guarded()) -> InstanceDriver {
        var driver = InstanceDriver(settings)
        driver.instance = Instance(
            settings: settings, interfaceName: "eth0", initialCounter: 1000, version: "9.9.9", hostName: "alpha")
        driver.instance.addressWatchStarted(interfaceIndex: InstanceDriver.interfaceIndex)
        return driver
    }

    /// Started, then run until CARP would make it master; returns when, and what happened then.
    static func wouldBeMaster(_ driver: inout InstanceDriver) -> (MonotonicInstant, [Action]) {
        for (id, _) in driver.start().spawned {
            _ = driver.exited(id, .exited(0), at: t0)
        }
        while let deadline = driver.instance.nextDeadline, deadline < t0 + .seconds(60) {
            let actions = driver.link(.running, at: deadline) + driver.time(deadline)
            if driver.instance.machine.role == .master { return (deadline, actions) }
        }
        preconditionFailure("CARP never made it master")
    }

    /// Master with the key: the grant and the transaction answered 10 ms apart, the up script
    /// reported finished. Returns when mastership was granted.
    static func master(_ driver: inout InstanceDriver) -> MonotonicInstant {
        let (now, actions) = wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        for (id, _) in granted.spawned { _ = driver.exited(id, .exited(0), at: now + .milliseconds(30)) }
        return now + .milliseconds(20)
    }

    @Test func withoutEtcdThereIsNoGateAndTheHandOverWaitStands() {
        let driver = InstanceDriver()
        #expect(driver.instance.etcd == nil)
        #expect(Instance.handOverWait(Self.guarded { $0.handOverWait = nil }) == nil)
        #expect(Instance.handOverWait(testSettings { $0.handOverWait = nil }) == .seconds(2))
    }

    @Test func startUpSaysWhyItMayNotBeMasterYet() {
        var driver = Self.driver()
        #expect(
            driver.start().messages.first
                == "etcd: MASTER only while holding key \(Self.key) (lease TTL 3 s, --etcd-unreachable=release, "
                + "http://192.0.2.1:2379): BACKUP until then")
    }

    @Test func aWouldBeMasterStaysBackupButAdvertisesUntilTheKeyIsOurs() throws {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        #expect(!actions.messages.contains("Switching to state: MASTER"))
        #expect(
            actions.messages.contains("etcd: CARP would make us MASTER (master-silent): taking key \(Self.key) first"))
        #expect(actions.spawnedPaths.isEmpty)
        #expect(actions.states.isEmpty)
        #expect(!actions.contains(.sendGratuitousARP))
        #expect(actions.adverts.count == 1)
        #expect(actions.etcdRequests.map(\.call) == [.grant(ttl: 3)])
        #expect(driver.instance.reportedRole == .backup)
        #expect(driver.signal(.user1, at: now).messages.first == "BACKUP on eth0 id 1")
        // CARP goes on advertising as the master it would be.
        #expect(driver.time(now + .seconds(1)).adverts.count == 1)
    }

    @Test func theKeyTakenTheMasterTermIsReportedWithItsUpScriptThenItsARP() throws {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        #expect(
            acquire.etcdRequests.map(\.call) == [
                .acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)
            ])
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        #expect(granted.messages(at: .warning).first == "Switching to state: MASTER")
        #expect(granted.states == ["MASTER"])
        let up = try #require(granted.spawned.first)
        #expect(up.1.path == "/etc/up")
        #expect(up.1.environment.contains(.init("CARP_REASON", "master-silent")))
        #expect(up.1.environment.contains(.init("CARP_PREVIOUS_STATE", "BACKUP")))
        #expect(up.1.environment.contains(.init("CARP_ETCD_KEY", Self.key)))
        #expect(up.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        #expect(!granted.contains(.sendGratuitousARP))
        #expect(driver.exited(up.0, .exited(0), at: now + .milliseconds(40)).contains(.sendGratuitousARP))
        #expect(driver.instance.reportedRole == .master)
        #expect(
            driver.signal(.user1, at: now + .seconds(1)).messages.last == "etcd: key \(Self.key), held with lease 42")
    }

    @Test func aKeyHeldElsewhereKeepsItBackupAndIsTriedAgainEachInterval() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let held = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        #expect(held.messages.contains("etcd: key \(Self.key) is held by 192.0.2.12 beta (lease 77)"))
        #expect(held.states.isEmpty)
        #expect(driver.instance.reportedRole == .backup)
        #expect(
            driver.signal(.user1, at: now + .milliseconds(30)).messages.last
                == "etcd: key \(Self.key), held by 192.0.2.12 beta (lease 77)")
        // The contending lease is renewed first, then the key tried again a second after the last try.
        let renewal = driver.run(until: now + .milliseconds(1020))
        #expect(renewal.etcdRequests.map(\.call) == [.keepAlive(lease: 42)])
        let retry = driver.answer(renewal.etcdRequests, at: now + .milliseconds(1030))
        #expect(retry.etcdRequests.map(\.call) == [.acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)])
    }

    @Test func theHoldersLeavingAdvertMakesABlockedMasterTryAtOnce() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        _ = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        let leaving = driver.frame(
            .accepted(.init(source: peer, advbase: 255, advskew: 255, counter: 9)), at: now + .milliseconds(300))
        #expect(leaving.etcdRequests.map(\.call) == [.acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)])
        #expect(!leaving.contains(.sendGratuitousARP))
    }

    @Test func aLeaseNotRenewedInTimeLeavesMasterAtOnceWithItsDownScriptThenTheLeavingAdvert() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        // No renewal is ever answered: the deadline is the grant's send time + 3 s - 0.5 s.
        let lost = driver.run(until: granted + .seconds(3))
        #expect(lost.messages(at: .warning).contains("Switching to state: BACKUP"))
        let down = try #require(lost.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(down.1.environment.contains(.init("CARP_REASON", "lease-lost")))
        #expect(down.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        let spawnIndex = try #require(lost.firstIndex { if case .spawn = $0 { true } else { false } })
        let leavingIndex = try #require(
            lost.firstIndex(of: .sendAdvertisement(advbase: 255, advskew: 255, counter: 1003)))
        #expect(spawnIndex < leavingIndex)
        #expect(lost.states == ["BACKUP"])
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.etcd?.losses == 1)
    }

    @Test func aStepDownReportsBackupAtOnceButLetsTheAddressGoOnlyOnceTheLeaseIsRevoked() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        #expect(leaving.states == ["BACKUP"])
        #expect(leaving.spawnedPaths.isEmpty)
        #expect(leaving.adverts.isEmpty)
        #expect(leaving.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        let released = driver.answer(leaving.etcdRequests, at: granted + .milliseconds(110))
        #expect(released.messages.contains("etcd: key \(Self.key) released: letting [192.0.2.100] go"))
        let down = try #require(released.spawned.first)
        #expect(down.1.environment.contains(.init("CARP_REASON", "step-down")))
        let spawnIndex = try #require(released.firstIndex { if case .spawn = $0 { true } else { false } })
        let advertIndex = try #require(released.firstIndex { if case .sendAdvertisement = $0 { true } else { false } })
        #expect(spawnIndex < advertIndex)
        #expect(released.adverts.count == 1)
        #expect(
            released.adverts.first.map { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } } == true)
    }

    @Test func aShutdownWaitsForTheReleaseThenExits() throws {
        var driver = Self.driver(Self.guarded { $0.shutdown = true })
        let granted = Self.master(&driver)
        let leaving = driver.signal(.terminate, at: granted + .milliseconds(100))
        #expect(leaving.exits.isEmpty)
        #expect(leaving.spawnedPaths.isEmpty)
        #expect(leaving.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        let released = driver.answer(leaving.etcdRequests, at: granted + .milliseconds(110))
        let down = try #require(released.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(released.adverts.count == 1)
        #expect(driver.exited(down.0, .exited(0), at: granted + .milliseconds(150)).exits == [.exit(.success)])
    }

    @Test func aReleaseThatGetsNoAnswerLetsGoWhenTheRequestTimesOut() throws {
        var driver = Self.driver(Self.guarded { $0.shutdown = true })
        let granted = Self.master(&driver)
        _ = driver.signal(.terminate, at: granted + .milliseconds(100))
        #expect(driver.time(granted + .milliseconds(500)).spawnedPaths.isEmpty)
        let revoke = try #require(driver.instance.etcd?.lease.inFlight?.request)
        #expect(revoke.call == .revoke(lease: 42))
        let released = driver.run(until: granted + .milliseconds(700))
        #expect(released.contains(.etcdCancel(requestID: revoke.id)))
        #expect(released.spawnedPaths == ["/etc/down"])
    }

    @Test func aPreferredMastersAdvertMakesTheHolderYieldAndReleaseFirst() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let granted = Self.master(&driver)
        let yielded = driver.advert(advskew: 0, at: granted + .milliseconds(200))
        #expect(yielded.states == ["BACKUP"])
        #expect(yielded.spawnedPaths.isEmpty)
        #expect(yielded.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        let released = driver.answer(yielded.etcdRequests, at: granted + .milliseconds(210))
        let down = try #require(released.spawned.first)
        #expect(down.1.environment.contains(.init("CARP_REASON", "preferred-master")))
    }

    @Test func aBlockedMasterThatFallsBackToBackupReportsNothingAndGivesUpItsLease() {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (now, actions) = Self.wouldBeMaster(&driver)
        _ = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let back = driver.advert(advskew: 0, at: now + .milliseconds(50))
        #expect(back.states.isEmpty)
        #expect(back.spawnedPaths.isEmpty)
        #expect(!back.messages.contains("Switching to state: BACKUP"))
        #expect(back.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func aCarrierLostRunsTheDownScriptAtOnceAndGivesTheLeaseUp() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let lost = driver.link(.noCarrier, at: granted + .milliseconds(100))
        #expect(lost.states == ["BACKUP"])
        let down = try #require(lost.spawned.first)
        #expect(down.1.environment.contains(.init("CARP_REASON", "carrier-lost")))
        #expect(lost.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(driver.instance.etcd?.release == nil)
    }

    @Test func aBlockedMasterThatFailsItsCheckGoesFromBackupToFaultWithoutADownScript() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        _ = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let failed = driver.carryOut(
            driver.instance.healthChanged(healthy: false, at: now + .milliseconds(50)), at: now)
        #expect(failed.states == ["FAULT"])
        #expect(failed.spawnedPaths.isEmpty)
        #expect(failed.adverts.map { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } } == [true])
        let record = failed.first { if case .recordState = $0 { true } else { false } }
        #expect(record == .recordState(state: "FAULT", previous: "BACKUP", reason: "health-check-failed"))
    }

    /// A backup hears the master; after twice the TTL it looks the key up.
    static func backupHearingAMaster(_ driver: inout InstanceDriver) -> ([Action], MonotonicInstant) {
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        var heard: [Action] = []
        var now = t0
        for second in 0...6 {
            now = t0 + .milliseconds(UInt64(second) * 1000 + 500)
            heard += driver.run(until: now) + driver.advert(advskew: 0, at: now)
        }
        return (heard, now)
    }

    @Test func aBackupThatHearsAMasterWithoutTheKeySaysSoOnce() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (heard, now) = Self.backupHearingAMaster(&driver)
        let read = try #require(heard.etcdRequests.first)
        #expect(read.call == .read(key: Self.key))
        let message =
            "etcd: 192.0.2.12 advertises as MASTER while key \(Self.key) is free: it cannot reach etcd, or runs "
            + "without --etcd or with another key (every host of the group must run the guard)"
        #expect(driver.answer([read], at: now).messages(at: .warning) == [message])
        // Thirty seconds later: the same finding, not said again.
        var again: [Action] = []
        for second in 7...38 { again += driver.advert(advskew: 0, at: t0 + .seconds(UInt64(second))) }
        again += driver.run(until: t0 + .seconds(38))
        let second = try #require(again.etcdRequests.first)
        #expect(driver.answer([second], at: t0 + .seconds(38)).messages(at: .warning).isEmpty)
    }

    @Test func aBackupWhoseMasterHoldsTheKeySaysNothing() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (heard, now) = Self.backupHearingAMaster(&driver)
        let read = try #require(heard.etcdRequests.first)
        #expect(driver.answer([read], holder: "192.0.2.12 beta", at: now).messages(at: .warning).isEmpty)
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func theMetricsFollowTheReportedRoleTheKeyAndTheLosses() {
        var driver = Self.driver(Self.guarded { $0.metricsFile = "/run/ucarp.prom" })
        let (now, actions) = Self.wouldBeMaster(&driver)
        #expect(driver.instance.metricsSnapshot.role == .backup)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: false, leaseLosses: 0))
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        _ = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        #expect(driver.instance.metricsSnapshot.role == .master)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: true, leaseLosses: 0))
        _ = driver.run(until: now + .seconds(3))
        #expect(driver.instance.metricsSnapshot.role == .backup)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: false, leaseLosses: 1))
    }
}

extension InstanceDriver {
    /// etcd's answer to the one request among `requests`, after the fake member's rules.
    mutating func answer(
        _ requests: [EtcdLeaseGuard.Request], holder: String? = nil, at now: MonotonicInstant
    ) -> [Action] {
        guard let request = requests.last else {
            Issue.record("no etcd request to answer")
            return []
        }
        let (status, body) = InstanceEtcdTests.answer(to: request.call, holder: holder)
        return carryOut(
            instance.etcdAnswered(status: status, body: Array(body.utf8), for: request.id, at: now), at: now)
    }
}

extension [Action] {
    var etcdRequests: [EtcdLeaseGuard.Request] {
        compactMap {
            guard case .etcdRequest(let request) = $0 else { return nil }
            return request
        }
    }
}

extension [UInt8] {
    /// Standard base64 with padding, as etcd's gateway writes keys and values.
    var base64: String {
        let alphabet = [Character]("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        for start in stride(from: 0, to: count, by: 3) {
            let chunk = Array(self[start..<Swift.min(start + 3, count)])
            let bits = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for index in 0..<4 {
                text.append(index <= chunk.count ? alphabet[(bits >> (18 - 6 * index)) & 63] : "=")
            }
        }
        return text
    }
}
