import Testing

@testable import CARPCore

/// The replay filter's memory, as a reload hands it over: oldest first, the newest kept, and
/// a filter made from it drops what the original would.
@Suite struct ReplayFilterMemoryTests {
    let source = IPv4Address(192, 0, 2, 2)

    func heard(_ counter: UInt64) -> ReceivedAdvertisement {
        ReceivedAdvertisement(source: source, advbase: 1, advskew: 0, counter: counter)
    }

    @Test func aWrappedMemoryComesBackOldestFirstAndDropsTheSameReplays() {
        var filter = ReplayFilter()
        let now = MonotonicInstant.seconds(10)
        for counter in UInt64(1)...40 { #expect(filter.screen(heard(counter), at: now) == nil) }
        for counter in UInt64(1000)...1070 { filter.sent(counter: counter) }
        let memory = filter.memory
        #expect(memory.sources.first?.fingerprints.map(\.counter) == Array(9...40))
        #expect(memory.own == Array(1007...1070))
        var copy = ReplayFilter(memory: memory)
        #expect(copy.memory == memory)
        #expect(copy.screen(heard(40), at: now) == .replayed(source: .ipv4(source), counter: 40))
        #expect(copy.screen(heard(1070), at: now) == .reflected(source: .ipv4(source), counter: 1070))
        #expect(copy.screen(heard(41), at: now) == nil)
    }
}
