import TestSupport
import Testing

@testable import CARPCore

/// A ucarp 1.5.2 peer's counter, as `src/carp.c` draws it: random for every advert until it
/// hears a verified one (`sc_init_counter`), then the counter it heard last, plus one per
/// advert sent since (`carp_prepare_ad`, `carp_input`).
private struct UcarpCounter {
    var heard: UInt64?

    mutating func nextAdvert(_ random: inout SplitMix) -> UInt64 {
        guard let last = heard else { return random.next() }
        heard = last &+ 1
        return last &+ 1
    }
}

@Suite struct ReplayFilterTests {
    let attacker = IPv4Address(192, 0, 2, 66)

    @Test func anAdvertCarryingOneOfOurCountersIsReflectedWhateverItsSourceAndInterval() throws {
        var (machine, since) = try master()
        _ = machine.deadlinePassed(at: since + .seconds(1))
        for (source, advbase, advskew) in [
            (attacker, 0 as UInt8, 1 as UInt8), (IPv4Address(192, 0, 2, 1), 1, 0), (us, 1, 0),
        ] {
            let reflected = ReceivedAdvertisement(
                source: source, advbase: advbase, advskew: advskew, counter: ownCounter(after: 1))
            #expect(
                machine.screen(reflected, at: since + .seconds(2))
                    == .reflected(source: .ipv4(source), counter: ownCounter(after: 1)))
        }
        // The first one too, and the departing one.
        let leaving = machine.stepDown(at: since + .seconds(2))
        #expect(
            withoutLogs(leaving).first == .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 2)))
        for step in 0...2 {
            #expect(
                machine.screen(advert(from: attacker, counter: ownCounter(after: step)), at: since + .seconds(3)) != nil
            )
        }
    }

    @Test func aReflectionCannotMakeAMasterStepDown() throws {
        var (machine, since) = try master(configuration(source: peer))
        // Our own advert, from a lower source with a better skew: not heard by the election.
        let forged = advert(from: IPv4Address(192, 0, 2, 1), advbase: 0, advskew: 0, counter: machine.counter ?? 0)
        #expect(machine.screen(forged, at: since + .milliseconds(500)) != nil)
        #expect(machine.role == .master)
    }

    /// ucarp copies our counter C and sends C+1, C+2, ...: never one of ours.
    @Test func aUcarpPeerThatCopiedOurCounterIsNeverDropped() throws {
        var (machine, since) = try master(configuration(initialCounter: .max - 2))
        var ucarp = UcarpCounter()
        var random = SplitMix(state: 23)
        var now = since
        for round in 1...200 {
            now = now + .seconds(1)
            // We advertise; the ucarp peer hears it (most of the time) and copies the counter.
            _ = machine.deadlinePassed(at: now)
            if round % 7 != 0, let ours = machine.counter { ucarp.heard = ours }
            // It sends one or a few adverts before it hears us again (two masters for a while).
            for extra in 0..<(round % 3 + 1) {
                let theirs = advert(advbase: 1, advskew: 0, counter: ucarp.nextAdvert(&random))
                #expect(
                    machine.screen(theirs, at: now + .milliseconds(100 * UInt64(extra + 1))) == nil, "round \(round)")
            }
        }
    }

    /// A ucarp that has never heard a peer sends a random counter each time; one restarted
    /// mid-run starts random again.
    @Test func aUcarpMasterThatNeverHeardAPeerOrRestartedIsNeverDropped() {
        var machine = backup()
        var ucarp = UcarpCounter()
        var random = SplitMix(state: 5)
        var now = t0
        for round in 1...500 {
            now = now + .seconds(1)
            if round == 250 { ucarp = UcarpCounter() }
            let theirs = advert(counter: ucarp.nextAdvert(&random))
            #expect(machine.screen(theirs, at: now) == nil)
            _ = machine.received(theirs, at: now)
        }
        #expect(machine.role == .backup)
    }

    @Test func anExactRepeatFromTheSameSourceIsReplayedAnywhereElseItIsHeard() {
        var filter = ReplayFilter()
        let original = advert(counter: 77)
        #expect(filter.screen(original, at: t0) == nil)
        #expect(filter.screen(original, at: t0 + .seconds(1)) == .replayed(source: .ipv4(peer), counter: 77))
        // Another source, or another interval with the same counter, is another advert.
        #expect(filter.screen(advert(from: attacker, counter: 77), at: t0 + .seconds(1)) == nil)
        #expect(filter.screen(advert(advskew: 1, counter: 77), at: t0 + .seconds(1)) == nil)
    }

    /// The third attack: the dead master's adverts replayed once a second must not
    /// keep the backup waiting.
    @Test func aDeadMastersRepliedAdvertsDoNotKeepTheBackupFromTakingOver() throws {
        var machine = backup(configuration(advskew: 100))
        var now = t0
        var captured: [ReceivedAdvertisement] = []
        for second in 1...10 {
            now = t0 + .seconds(UInt64(second))
            let genuine = advert(counter: 9_000 + UInt64(second))
            captured.append(genuine)
            #expect(machine.screen(genuine, at: now) == nil)
            _ = machine.received(genuine, at: now)
        }
        let lastHeard = now
        let takeOver = try #require(machine.nextDeadline)
        #expect(takeOver == lastHeard + .seconds(3) + .microseconds(390_625))
        // The master dies; an attacker replays its last five adverts, in a loop.
        var replays = 0
        while now + .milliseconds(500) < takeOver {
            now = now + .milliseconds(500)
            let replay = captured[captured.count - 1 - replays % 5]
            replays += 1
            #expect(machine.screen(replay, at: now) == .replayed(source: .ipv4(peer), counter: replay.counter))
            #expect(machine.deadlinePassed(at: now) == [])
        }
        #expect(replays == 6)
        let actions = machine.deadlinePassed(at: takeOver)
        #expect(actions.first == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
    }

    @Test func memoryIsBoundedPerSourceInSourcesAndInTime() {
        var filter = ReplayFilter()
        // Per source: the oldest advert is forgotten once the memory is full.
        for counter in 0...UInt64(ReplayFilter.perSourceMemory) {
            #expect(filter.screen(advert(counter: counter), at: t0) == nil)
        }
        #expect(filter.screen(advert(counter: 0), at: t0) == nil)
        #expect(filter.screen(advert(counter: 2), at: t0) != nil)
        // Sources: the least recently heard is forgotten.
        for index in 1...ReplayFilter.sourceMemory {
            let source = IPv4Address(10, 0, 0, UInt8(index))
            #expect(filter.screen(advert(from: source, counter: 1), at: t0 + .seconds(UInt64(index))) == nil)
        }
        #expect(filter.screen(advert(counter: 2), at: t0 + .seconds(30)) == nil)
        // Time: nothing heard longer ago than forgetAfter is remembered.
        let source = IPv4Address(10, 0, 0, 16)
        #expect(filter.screen(advert(from: source, counter: 1), at: t0 + .seconds(20)) != nil)
        #expect(
            filter.screen(advert(from: source, counter: 1), at: t0 + .seconds(17) + ReplayFilter.forgetAfter) == nil)
    }

    @Test func ourOwnCountersAreRememberedUpToTheBound() {
        var filter = ReplayFilter()
        for step in 0...ReplayFilter.ownMemory { filter.sent(counter: ownCounter(after: step)) }
        #expect(filter.screen(advert(counter: ownCounter(after: 0)), at: t0) == nil)
        #expect(filter.screen(advert(counter: ownCounter(after: 1)), at: t0) != nil)
    }
}
