/// `--auth=strict`'s replay window: for each source, the highest counter accepted; an advert
/// whose counter is not above it is dropped (``AdvertisementError/counterNotAbove(source:counter:highest:)``,
/// counted as `replayed`).
///
/// Strict senders' counters only grow, across their restarts too (``StrictCounter``), and the
/// digest covers the counter, the interval and the source (``StrictAuthenticator``): a captured
/// advert can be neither altered nor played again, to us or from another address. Nothing is
/// forgotten with time (a dead master's adverts replayed an hour later are still old); only a
/// source can be pushed out by more than ``sourceMemory`` others, and only a host that knows the
/// password can make a source, since the source is signed.
public struct StrictReplayWindow: Sendable {
    struct Highest: Sendable {
        var source: IPAddress
        var counter: UInt64
        var lastAccepted: MonotonicInstant
    }

    /// How many sources are remembered at once; the least recently accepted goes first.
    public static let sourceMemory = 16

    private var highest: [Highest] = []
    /// A source or an epoch (the counter's high 32 bits) not heard before was accepted since
    /// ``takeNews()``: worth keeping on disk, at that rate (once per peer's start).
    private var news = false

    public init() {}

    /// A window that starts from the counters a previous run accepted (``StrictState``),
    /// remembered as heard at `now`.
    public init(remembering peers: [StrictState.Peer], at now: MonotonicInstant) {
        highest = peers.suffix(Self.sourceMemory).map {
            Highest(source: $0.source, counter: $0.counter, lastAccepted: now)
        }
    }

    /// The highest counter accepted from each source remembered.
    public var peers: [StrictState.Peer] {
        highest.map { StrictState.Peer(source: $0.source, counter: $0.counter) }
    }

    /// Whether a new source or a new epoch of one was accepted since the last call.
    public mutating func takeNews() -> Bool {
        defer { news = false }
        return news
    }

    /// nil, and the counter remembered, when the advert is newer than any accepted from its
    /// source; else why it is dropped.
    public mutating func screen(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> AdvertisementError? {
        guard let index = highest.firstIndex(where: { $0.source == advert.source }) else {
            if highest.count >= Self.sourceMemory,
                let oldest = highest.indices.min(by: { highest[$0].lastAccepted < highest[$1].lastAccepted })
            {
                highest.remove(at: oldest)
            }
            highest.append(Highest(source: advert.source, counter: advert.counter, lastAccepted: now))
            news = true
            return nil
        }
        let last = highest[index].counter
        guard advert.counter > last else {
            return .counterNotAbove(source: advert.source, counter: advert.counter, highest: last)
        }
        if advert.counter >> 32 != last >> 32 { news = true }
        highest[index].counter = advert.counter
        highest[index].lastAccepted = now
        return nil
    }

    /// The highest counter accepted from `source`, if it is remembered.
    public func highestCounter(from source: IPAddress) -> UInt64? {
        highest.first { $0.source == source }?.counter
    }
}
