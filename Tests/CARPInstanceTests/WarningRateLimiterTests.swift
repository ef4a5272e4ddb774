import CARPCore
import Testing

@testable import CARPInstance

@Suite struct WarningRateLimiterTests {
    @Test func letsOnePerIntervalThroughAndCountsTheRest() {
        var limiter = WarningRateLimiter<DropReason>(interval: .seconds(60))
        #expect(limiter.admit(.badDigest, at: t0) == 0)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(1)) == nil)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(60) - .nanoseconds(1)) == nil)
        // The window closes exactly one interval after it opened.
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(60)) == 2)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(61)) == nil)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(500)) == 1)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(1000)) == 0)
    }

    @Test func kindsAreLimitedSeparately() {
        var limiter = WarningRateLimiter<DropReason>(interval: .seconds(10))
        #expect(limiter.admit(.badDigest, at: t0) == 0)
        #expect(limiter.admit(.badTTL, at: t0) == 0)
        #expect(limiter.admit(.badDigest, at: t0 + .seconds(1)) == nil)
        #expect(limiter.admit(.badTTL, at: t0 + .seconds(1)) == nil)
        #expect(limiter.admit(.badVersion, at: t0 + .seconds(1)) == 0)
    }
}
