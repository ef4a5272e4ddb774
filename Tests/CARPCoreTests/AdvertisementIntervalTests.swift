import Testing

@testable import CARPCore

@Suite struct AdvertisementIntervalTests {
    @Test(
        arguments: [(0, 0), (1, 3906), (2, 7812), (26, 101_562), (128, 500_000), (240, 937_500), (255, 996_093)]
            as [(UInt8, UInt32)])
    func skewBecomesMicrosecondsRoundedDown(_ skew: UInt8, _ microseconds: UInt32) {
        let interval = AdvertisementInterval(base: 1, skew: skew)
        #expect(interval.seconds == 1)
        #expect(interval.microseconds == microseconds)
    }

    @Test func everySkewStepIsDistinctAndBelowOneSecond() {
        var previous: AdvertisementInterval?
        for skew in UInt8.min...UInt8.max {
            let interval = AdvertisementInterval(base: 0, skew: skew)
            #expect(interval.microseconds == UInt32(skew) * 1_000_000 / 256)
            #expect(interval.microseconds < 1_000_000)
            if let previous { #expect(previous < interval) }
            previous = interval
        }
    }

    @Test func comparesSecondsFirstThenMicroseconds() {
        #expect(AdvertisementInterval(base: 1, skew: 0) < AdvertisementInterval(base: 1, skew: 1))
        #expect(AdvertisementInterval(base: 1, skew: 255) < AdvertisementInterval(base: 2, skew: 0))
        #expect(AdvertisementInterval(base: 0, skew: 255) < AdvertisementInterval(base: 1, skew: 0))
        #expect(AdvertisementInterval(base: 3, skew: 100) == AdvertisementInterval(seconds: 3, microseconds: 390_625))
        #expect(!(AdvertisementInterval(base: 3, skew: 100) < AdvertisementInterval(base: 3, skew: 100)))
        #expect(AdvertisementInterval(seconds: 3, microseconds: 0) < AdvertisementInterval(base: 3, skew: 1))
        #expect(AdvertisementInterval(base: 255, skew: 255) < AdvertisementInterval(seconds: 765, microseconds: 0))
    }

    @Test func durationIsExactInNanoseconds() {
        #expect(AdvertisementInterval(base: 1, skew: 1).duration == .nanoseconds(1_003_906_000))
        #expect(AdvertisementInterval(base: 255, skew: 255).duration == .nanoseconds(255_996_093_000))
        #expect(AdvertisementInterval(base: 0, skew: 26).duration == .nanoseconds(101_562_000))
    }

    @Test func descriptionShowsSixDecimals() {
        #expect(AdvertisementInterval(base: 1, skew: 1).description == "1.003906s")
        #expect(AdvertisementInterval(base: 3, skew: 0).description == "3.000000s")
    }
}
