/// Drops the verified advertisements that a host on the segment can make without the password,
/// while the wire stays ucarp 1.5.2's (the default, ucarp-compatible mode).
///
/// The digest covers version, type, vhid, the addresses and the counter, not advbase, advskew
/// or the IP source, and nobody checks the counter (ucarp 1.5.2, FreeBSD and OpenBSD: "XXX
/// Replay protection goes here"). Without a wire change two things can still be refused:
///
/// - **Reflected**: an advert carrying the counter of one of our own recent adverts, whatever
///   its source, advbase or advskew (OpenBSD's own-cookie check): our adverts cannot be turned
///   against us from a forged lower source or with a better skew.
/// - **Replayed**: an exact repeat (counter, advbase, advskew) of an advert already accepted
///   from that source. A dead master's captured adverts, replayed, then re-arm a backup's timer
///   at most once each, so the backup still times the master out.
///
/// Why no ucarp peer is dropped (facts from ucarp 1.5.2's `src/carp.c`): `carp_prepare_ad`
/// draws a fresh random 64-bit counter for every advert until `sc_init_counter` is cleared,
/// then increments by one per advert; `carp_input` clears `sc_init_counter` and copies the
/// counter of every verified advert it hears, in any state. So a ucarp peer sends either a
/// random counter (a collision has odds of 2⁻⁶⁴ per remembered advert) or the last counter it
/// heard plus the number of adverts it sent since (at least one). Our own counters do not
/// count by one: they advance by ``CARPWire/counterStride`` (an odd constant near 2⁶⁴/φ) and
/// never adopt a peer's, so "the counter a ucarp copied from us, plus a few" is never one of
/// ours: the stride's multiples within our memory are all more than 2⁵⁶ away from it. A ucarp
/// that copied our counter C and sends C+1 is therefore accepted, as is a ucarp restarted mid-run
/// (random again) and one that never heard a peer (random every time: no two adverts repeat).
/// A ucarp peer repeats an advert only when someone feeds it a counter it already counted on
/// from (its own advert reflected to it under another source, which ucarp does not refuse);
/// that repeat is dropped here, as any replay is: the attacker who can do that can also forge
/// a better skew, which no mode with ucarp's wire stops.
///
/// Memory is bounded: ``ownMemory`` counters of ours, ``perSourceMemory`` adverts for each of
/// at most ``sourceMemory`` sources (the least recently heard forgotten first), and nothing
/// heard longer than ``forgetAfter`` ago.
///
/// An opt-in strict mode (a wire change: a counter that must grow) is meant to be another
/// screen beside this one, consulted in ``CARPStateMachine/screen(_:at:)``.
public struct ReplayFilter: Sendable {
    /// What the digest does not protect from being repeated, with the counter it does.
    struct Fingerprint: Equatable, Sendable {
        var counter: UInt64
        var advbase: UInt8
        var advskew: UInt8
    }

    struct Heard: Sendable {
        var source: IPAddress
        var fingerprints: [Fingerprint] = []
        /// Where the next fingerprint goes once the memory is full.
        var next = 0
        var lastAccepted: MonotonicInstant
    }

    /// How many of our own last counters are remembered (a minute of adverts at advbase 1).
    public static let ownMemory = 64
    /// How many accepted adverts of one source are remembered: more than a backup's patience
    /// (deadratio 3) in adverts, so a replayed loop of a dead master's last ones is refused.
    public static let perSourceMemory = 32
    /// How many sources are remembered at once.
    public static let sourceMemory = 16
    /// A source not heard from for this long is forgotten.
    public static let forgetAfter = MonotonicDuration.seconds(900)

    var ownCounters: [UInt64] = []
    var nextOwn = 0
    var heard: [Heard] = []

    public init() {}

    /// We send an advert with `counter`.
    public mutating func sent(counter: UInt64) {
        if ownCounters.count < Self.ownMemory {
            ownCounters.append(counter)
        } else {
            ownCounters[nextOwn] = counter
            nextOwn = (nextOwn + 1) % Self.ownMemory
        }
    }

    /// nil, and the advert remembered, when the election may hear it; else why it is dropped.
    public mutating func screen(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> AdvertisementError? {
        if ownCounters.contains(advert.counter) {
            return .reflected(source: advert.source, counter: advert.counter)
        }
        heard.removeAll { now.duration(since: $0.lastAccepted) > Self.forgetAfter }
        let fingerprint = Fingerprint(counter: advert.counter, advbase: advert.advbase, advskew: advert.advskew)
        guard let index = heard.firstIndex(where: { $0.source == advert.source }) else {
            if heard.count >= Self.sourceMemory,
                let oldest = heard.indices.min(by: { heard[$0].lastAccepted < heard[$1].lastAccepted })
            {
                heard.remove(at: oldest)
            }
            heard.append(Heard(source: advert.source, fingerprints: [fingerprint], lastAccepted: now))
            return nil
        }
        if heard[index].fingerprints.contains(fingerprint) {
            return .replayed(source: advert.source, counter: advert.counter)
        }
        heard[index].lastAccepted = now
        if heard[index].fingerprints.count < Self.perSourceMemory {
            heard[index].fingerprints.append(fingerprint)
        } else {
            heard[index].fingerprints[heard[index].next] = fingerprint
            heard[index].next = (heard[index].next + 1) % Self.perSourceMemory
        }
        return nil
    }
}
