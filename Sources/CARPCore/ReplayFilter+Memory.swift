/// What a ``ReplayFilter`` remembers, for a successor (`ucarp --reload`): our own recent
/// counters and, for each source heard, its recent adverts and when it was last accepted.
/// Oldest first; a successor that remembers less keeps the newest.
extension ReplayFilter {
    public struct Memory: Equatable, Sendable {
        /// An advert accepted from `source`: what the digest does not cover, with the counter.
        public struct Fingerprint: Equatable, Sendable {
            public var counter: UInt64
            public var advbase: UInt8
            public var advskew: UInt8

            public init(counter: UInt64, advbase: UInt8, advskew: UInt8) {
                self.counter = counter
                self.advbase = advbase
                self.advskew = advskew
            }
        }

        public struct Source: Equatable, Sendable {
            public var source: IPAddress
            public var fingerprints: [Fingerprint]
            public var lastAccepted: MonotonicInstant

            public init(source: IPAddress, fingerprints: [Fingerprint], lastAccepted: MonotonicInstant) {
                self.source = source
                self.fingerprints = fingerprints
                self.lastAccepted = lastAccepted
            }
        }

        /// Our own last counters, oldest first.
        public var own: [UInt64]
        public var sources: [Source]

        public init(own: [UInt64] = [], sources: [Source] = []) {
            self.own = own
            self.sources = sources
        }
    }

    /// What the filter remembers now.
    public var memory: Memory {
        Memory(
            own: Array(ownCounters[nextOwn...] + ownCounters[..<nextOwn]),
            sources: heard.map { entry in
                let ordered = entry.fingerprints[entry.next...] + entry.fingerprints[..<entry.next]
                return Memory.Source(
                    source: entry.source,
                    fingerprints: ordered.map { .init(counter: $0.counter, advbase: $0.advbase, advskew: $0.advskew) },
                    lastAccepted: entry.lastAccepted)
            })
    }

    /// A filter remembering what a predecessor's did (within this filter's limits: the newest).
    public init(memory: Memory) {
        self.init()
        for counter in memory.own.suffix(Self.ownMemory) { sent(counter: counter) }
        for source in memory.sources.suffix(Self.sourceMemory) {
            heard.append(
                Heard(
                    source: source.source,
                    fingerprints: source.fingerprints.suffix(Self.perSourceMemory).map {
                        Fingerprint(counter: $0.counter, advbase: $0.advbase, advskew: $0.advskew)
                    },
                    lastAccepted: source.lastAccepted))
        }
    }
}
