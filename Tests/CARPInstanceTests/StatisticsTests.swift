import CARPCore
import Testing

@testable import CARPInstance

@Suite struct StatisticsTests {
    @Test func summaryListsDropsInCheckOrder() {
        var statistics = Statistics()
        #expect(statistics.summary == "sent 0, received 0, send errors 0, transitions 0, dropped: none")
        statistics.advertisementsSent = 12
        statistics.advertisementsReceived = 30
        statistics.transitions = 2
        statistics.countDrop(.badDigest)
        statistics.countDrop(.badTTL)
        statistics.countDrop(.badDigest)
        #expect(statistics.dropped == [.badDigest: 2, .badTTL: 1])
        #expect(
            statistics.summary
                == "sent 12, received 30, send errors 0, transitions 2, dropped: bad-ttl 1, bad-digest 2")
    }

    @Test func dropReasonsFollowUcarpsCheckOrder() {
        #expect(
            DropReason.allCases == [
                .malformedIPHeader, .truncated, .oversized, .badTTL, .badVersion, .badType, .otherVHID,
                .otherDestination,
                .unknownPeer, .badChecksum, .badDigest, .reflected, .replayed, .otherAuthMode,
            ])
    }
}
