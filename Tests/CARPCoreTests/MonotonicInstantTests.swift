import Testing

@testable import CARPCore

@Suite struct MonotonicInstantTests {
    @Test func addsAndMeasuresDurations() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        let later = start + .milliseconds(1500)
        #expect(later.nanoseconds == 6_500_000_000)
        #expect(later.duration(since: start) == .seconds(1) + .milliseconds(500))
        #expect(start.duration(since: later) == .nanoseconds(0))
        #expect(start < later)
        #expect(MonotonicInstant.seconds(2) == MonotonicInstant(nanoseconds: 2_000_000_000))
    }

    @Test func pollTimeoutRoundsUp() {
        #expect(MonotonicDuration.nanoseconds(0).millisecondsRoundedUp == 0)
        #expect(MonotonicDuration.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(MonotonicDuration.nanoseconds(1_000_000).millisecondsRoundedUp == 1)
        #expect(MonotonicDuration.nanoseconds(1_000_001).millisecondsRoundedUp == 2)
        #expect(AdvertisementInterval(base: 1, skew: 1).duration.millisecondsRoundedUp == 1004)
    }
}
