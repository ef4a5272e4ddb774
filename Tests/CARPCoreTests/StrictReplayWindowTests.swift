import Testing

@testable import CARPCore

/// `--auth=strict`'s counter and replay window: a counter that never goes back, across
/// restarts, and a receiver that drops anything not above the last it accepted from a source.
@Suite struct StrictReplayWindowTests {
    func strictConfiguration(advskew: UInt8 = 0, initialCounter: UInt64) -> CARPStateMachine.Configuration {
        var strict = configuration(advskew: advskew, initialCounter: initialCounter)
        strict.authentication = .strict
        return strict
    }

    /// The counters a strict master sends in its first `count` adverts.
    func sentCounters(_ machine: inout CARPStateMachine, from start: MonotonicInstant, count: Int) -> [UInt64] {
        var counters: [UInt64] = []
        var now = start
        while counters.count < count {
            for case .sendAdvertisement(_, _, let counter) in machine.deadlinePassed(at: now) {
                counters.append(counter)
            }
            guard let next = machine.nextDeadline else { break }
            now = next
        }
        return counters
    }

    @Test func aStrictMasterCountsByOneFromItsEpoch() throws {
        let first = StrictCounter.firstCounter(epoch: 1_800_000_000)
        var (machine, since) = try master(strictConfiguration(initialCounter: first))
        let counters = sentCounters(&machine, from: since + .seconds(1), count: 4)
        // The take-over's advert had `first`.
        #expect(counters == [first + 1, first + 2, first + 3, first + 4])
    }

    @Test func onlyACounterAboveTheLastAcceptedPassesHoweverLateItComes() {
        var window = StrictReplayWindow()
        #expect(window.screen(advert(counter: 10), at: t0) == nil)
        #expect(window.screen(advert(counter: 12), at: t0 + .seconds(1)) == nil)
        #expect(window.highestCounter(from: .ipv4(peer)) == 12)
        for (counter, later) in [(12, 1), (11, 2), (10, 3_600), (0, 86_400)] as [(UInt64, UInt64)] {
            #expect(
                window.screen(advert(counter: counter), at: t0 + .seconds(later))
                    == .counterNotAbove(source: .ipv4(peer), counter: counter, highest: 12))
        }
        // A forged interval does not help: the counter decides (the digest covers the interval).
        #expect(window.screen(advert(advbase: 0, advskew: 1, counter: 12), at: t0 + .seconds(5)) != nil)
        // Each source has its own window.
        #expect(window.screen(advert(from: IPv4Address(192, 0, 2, 13), counter: 5), at: t0 + .seconds(5)) == nil)
        #expect(window.screen(advert(counter: 13), at: t0 + .seconds(5)) == nil)
        #expect(AdvertisementError.counterNotAbove(source: .ipv4(peer), counter: 1, highest: 2).reason == .replayed)
    }

    @Test func sourcesAreBoundedTheLeastRecentlyAcceptedForgottenFirst() {
        var window = StrictReplayWindow()
        #expect(window.screen(advert(counter: 100), at: t0) == nil)
        for index in 1...StrictReplayWindow.sourceMemory {
            let source = IPv4Address(10, 0, 0, UInt8(index))
            #expect(window.screen(advert(from: source, counter: 1), at: t0 + .seconds(UInt64(index))) == nil)
        }
        #expect(window.highestCounter(from: .ipv4(peer)) == nil)
        #expect(window.highestCounter(from: .ipv4(IPv4Address(10, 0, 0, 1))) == 1)
    }

    /// The third attack in strict mode: the dead master's adverts, replayed in any
    /// order, never re-arm the backup's timer.
    @Test func aDeadMastersReplayedAdvertsNeverReArmTheBackup() throws {
        var machine = backup(strictConfiguration(advskew: 100, initialCounter: 1 << 40))
        var now = t0
        var captured: [ReceivedAdvertisement] = []
        for second in 1...10 {
            now = t0 + .seconds(UInt64(second))
            let genuine = advert(counter: (7 << 32) + UInt64(second))
            captured.append(genuine)
            #expect(machine.screen(genuine, at: now) == nil)
            _ = machine.received(genuine, at: now)
        }
        let takeOver = try #require(machine.nextDeadline)
        var replays = 0
        while now + .milliseconds(250) < takeOver {
            now = now + .milliseconds(250)
            let replay = captured[(replays * 7) % captured.count]
            replays += 1
            #expect(machine.screen(replay, at: now)?.reason == .replayed)
            #expect(machine.deadlinePassed(at: now) == [])
        }
        #expect(replays > 10)
        let actions = machine.deadlinePassed(at: takeOver)
        #expect(actions.first == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
    }

    /// A master restarted (its epoch persisted) is heard at once by a backup that remembers
    /// its last run, even with its clock set back meanwhile.
    @Test func aRestartedMasterIsNotTakenForAReplay() throws {
        let clock: UInt64 = 1_800_000_000
        let firstEpoch = try #require(StrictCounter.epoch(persisted: nil, secondsSinceEpoch: clock))
        #expect(firstEpoch == 1_800_000_000)
        let persisted = try #require(StrictState(text: StrictState(epoch: firstEpoch).text)).epoch
        var (before, since) = try master(
            strictConfiguration(initialCounter: StrictCounter.firstCounter(epoch: firstEpoch)))
        var window = StrictReplayWindow()
        for counter in [before.counter ?? 0] + sentCounters(&before, from: since + .seconds(1), count: 50) {
            #expect(window.screen(advert(counter: counter), at: since) == nil)
        }
        // Restarted the same second, and with the clock an hour behind: the persisted epoch rules.
        for restartClock in [clock, clock - 3_600] {
            let epoch = try #require(StrictCounter.epoch(persisted: persisted, secondsSinceEpoch: restartClock))
            #expect(epoch == firstEpoch + 1)
            var probe = window
            var (after, then) = try master(
                strictConfiguration(initialCounter: StrictCounter.firstCounter(epoch: epoch)))
            for counter in [after.counter ?? 0] + sentCounters(&after, from: then + .seconds(1), count: 3) {
                #expect(probe.screen(advert(counter: counter), at: then) == nil)
            }
        }
        // The file lost (no --auth-state, /run emptied by a reboot): the clock rules.
        let later = try #require(StrictCounter.epoch(persisted: nil, secondsSinceEpoch: clock + 90))
        #expect(window.screen(advert(counter: StrictCounter.firstCounter(epoch: later)), at: since) == nil)
        // Both lost, the file and the clock: what the documentation warns of.
        let behind = try #require(StrictCounter.epoch(persisted: nil, secondsSinceEpoch: clock - 1))
        #expect(window.screen(advert(counter: StrictCounter.firstCounter(epoch: behind)), at: since) != nil)
    }

    @Test func theEpochIsAboveThePersistedOneAndAtLeastTheClock() {
        #expect(StrictCounter.epoch(persisted: 5, secondsSinceEpoch: 1_000) == 1_000)
        #expect(StrictCounter.epoch(persisted: 5_000, secondsSinceEpoch: 1_000) == 5_001)
        #expect(StrictCounter.epoch(persisted: 1_000, secondsSinceEpoch: 1_000) == 1_001)
        #expect(StrictCounter.epoch(persisted: .max, secondsSinceEpoch: 1_000) == nil)
        #expect(StrictCounter.epoch(persisted: nil, secondsSinceEpoch: 1 << 40) == .max)
        #expect(StrictCounter.firstCounter(epoch: 1) == 1 << 32)
    }

    @Test func theStateFileRoundTripsAndRefusesAnythingElse() throws {
        let state = StrictState(
            epoch: 1_800_000_123,
            peers: [
                .init(source: .ipv4(peer), counter: 7 << 32 + 9),
                .init(source: .ipv6(try #require(IPv6Address("2001:db8::2"))), counter: .max),
            ])
        #expect(
            state.text
                == Array("EPOCH=1800000123\nPEER=192.0.2.12 30064771081\nPEER=2001:db8::2 18446744073709551615\n".utf8))
        #expect(StrictState(text: state.text) == state)
        #expect(StrictState(text: StrictState(epoch: 0).text) == StrictState(epoch: 0))
        #expect(StrictState(text: StrictState(epoch: .max).text)?.epoch == .max)
        for text in [
            "", "EPOCH=\n", "EPOCH=-1\n", "EPOCH=4294967296\n", "EPOCH=12a\n", "epoch=5\n", "EPOCH= 5\n",
            "PEER=192.0.2.12 5\n", "EPOCH=5\nPEER=192.0.2.12\n", "EPOCH=5\nPEER=nowhere 5\n", "EPOCH=5\nEPOCH=6\n",
            "EPOCH=5\nSTATE=MASTER\n",
        ] {
            #expect(StrictState(text: Array(text.utf8)) == nil, "\(text.debugDescription)")
        }
    }

    /// A backup restarted remembers the counters it had accepted (``StrictState``): the dead
    /// master's adverts captured before the restart are still old.
    @Test func aRestartedReceiverRemembersWhatItAccepted() throws {
        var before = backup(strictConfiguration(initialCounter: 1 << 40))
        var captured: [ReceivedAdvertisement] = []
        for second in 1...5 {
            let genuine = advert(counter: (9 << 32) + UInt64(second))
            captured.append(genuine)
            #expect(before.screen(genuine, at: t0 + .seconds(UInt64(second))) == nil)
        }
        // The first advert of a peer is news, worth a write; the next ones of its run are not.
        let news = before.strictState(onlyNews: true)
        let again = before.strictState(onlyNews: true)
        let kept = try #require(news)
        #expect(again == nil)
        #expect(kept.epoch == 1 << 8)
        #expect(kept.peers == [.init(source: .ipv4(peer), counter: (9 << 32) + 5)])
        let written = try #require(StrictState(text: kept.text))
        var after = CARPStateMachine(
            configuration: strictConfiguration(initialCounter: 2 << 40), remembering: written.peers, at: t0)
        _ = after.start(at: t0 + .seconds(10))
        for replay in captured {
            #expect(after.screen(replay, at: t0 + .seconds(11))?.reason == .replayed)
        }
        #expect(after.screen(advert(counter: (9 << 32) + 6), at: t0 + .seconds(11)) == nil)
        // A new epoch of the peer (it restarted) is news again; ucarp mode keeps nothing.
        #expect(after.screen(advert(counter: 10 << 32), at: t0 + .seconds(12)) == nil)
        let restarted = after.strictState(onlyNews: true)
        #expect(restarted?.peers == [.init(source: .ipv4(peer), counter: 10 << 32)])
        var ucarp = backup()
        _ = ucarp.screen(advert(counter: 5), at: t0)
        let none = ucarp.strictState(onlyNews: false)
        #expect(none == nil)
    }
}
