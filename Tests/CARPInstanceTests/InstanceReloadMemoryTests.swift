import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// What a reload used to forget: `--auth=ucarp`'s memory of recent adverts (replay detection)
/// and the drop counts go across in the snapshot; an older snapshot without them still reads.
@Suite struct InstanceReloadMemoryTests {
    static let master = IPv4Address(192, 0, 2, 2)

    /// A backup that accepted adverts 1 to 5 from the master and dropped a replay of 3.
    static func backupThatHeard() -> InstanceDriver {
        var old = InstanceDriver()
        for (id, _) in old.start().spawned { _ = old.exited(id, .exited(0), at: t0) }
        for counter in UInt64(1)...5 {
            _ = old.frame(
                .accepted(.init(source: master, advbase: 1, advskew: 0, counter: counter)),
                at: t0 + .milliseconds(100 * counter))
        }
        _ = old.frame(.accepted(.init(source: master, advbase: 1, advskew: 0, counter: 3)), at: t0 + .milliseconds(600))
        return old
    }

    @Test func aReplayCapturedBeforeTheReloadIsStillDroppedAfterIt() throws {
        let old = Self.backupThatHeard()
        #expect(old.instance.statistics.dropped[.replayed] == 1)
        let snapshot = try #require(old.instance.snapshot(daemonized: false))
        let decoded = try InstanceSnapshot(decoding: snapshot.encoded)
        #expect(decoded == snapshot)
        #expect(decoded.machine.replay?.sources.first?.fingerprints.map(\.counter) == [1, 2, 3, 4, 5])

        var new = InstanceDriver()
        let now = t0 + .seconds(1)
        _ = new.link(.running, at: now)
        _ = new.carryOut(new.instance.resumed(from: decoded, at: now), at: now)
        // The drop count carries on, and a replay of advert 4 is dropped, not heard.
        #expect(new.instance.statistics.dropped[.replayed] == 1)
        let armed = try #require(new.instance.machine.nextDeadline)
        _ = new.frame(.accepted(.init(source: Self.master, advbase: 1, advskew: 0, counter: 4)), at: now)
        #expect(new.instance.statistics.dropped[.replayed] == 2)
        #expect(new.instance.machine.nextDeadline == armed)
        // The master's next advert is heard.
        _ = new.frame(
            .accepted(.init(source: Self.master, advbase: 1, advskew: 0, counter: 6)), at: now + .milliseconds(100))
        #expect(new.instance.statistics.dropped[.replayed] == 2)
        #expect(try #require(new.instance.machine.nextDeadline) > armed)
    }

    @Test func ourOwnCountersStillCountAsReflectionsAfterTheReload() throws {
        var old = InstanceDriver()
        let mastered = old.becomeMaster()
        let sent = old.run(until: mastered + .seconds(3)).compactMap { action -> UInt64? in
            if case .sendAdvertisement(_, _, let counter) = action { counter } else { nil }
        }
        let first = try #require(sent.first)
        let snapshot = try InstanceSnapshot(decoding: try #require(old.instance.snapshot(daemonized: false)).encoded)
        #expect(snapshot.machine.replay?.own.contains(first) == true)
        var new = InstanceDriver()
        let now = mastered + .seconds(3) + .milliseconds(10)
        _ = new.link(.running, at: now)
        _ = new.carryOut(new.instance.resumed(from: snapshot, at: now), at: now)
        _ = new.frame(.accepted(.init(source: Self.master, advbase: 1, advskew: 0, counter: first)), at: now)
        #expect(new.instance.statistics.dropped[.reflected] == 1)
    }

    @Test func anOlderSnapshotWithoutThemStillReadsWithAnEmptyMemory() throws {
        let text = "swiftcarp-state 1\nrole=backup\nmaster-down-at=5000\ncounter=7\ndaemonized=false\n"
        let snapshot = try InstanceSnapshot(decoding: text)
        #expect(snapshot.machine.replay == nil)
        #expect(snapshot.dropped.isEmpty)
    }

    @Test func brokenMemoryLinesAreRefusedNamingTheKey() {
        let base = "swiftcarp-state 1\nrole=backup\nmaster-down-at=5000\n"
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "replay-own", value: "1,x")) {
            try InstanceSnapshot(decoding: base + "replay-own=1,x\n")
        }
        #expect(throws: InstanceSnapshot.DecodingError.missing("replay-source-0")) {
            try InstanceSnapshot(decoding: base + "replay-own=\nreplay-sources=1\n")
        }
        #expect(throws: InstanceSnapshot.DecodingError.badValue(key: "dropped", value: "nonsense 3")) {
            try InstanceSnapshot(decoding: base + "dropped=nonsense 3\n")
        }
    }
}
