import Testing

@testable import CARPCore

@Suite struct InternetChecksumTests {
    @Test func emptyDataSumsToAllOnes() {
        #expect(internetChecksum([UInt8]()) == 0xFFFF)
        #expect(internetChecksum([0, 0, 0, 0]) == 0xFFFF)
    }

    @Test func rfc1071Example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (after the end-around carry).
        #expect(internetChecksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == ~UInt16(0xDDF2))
    }

    @Test func oddLastBytePadsWithZero() {
        #expect(internetChecksum([0x01]) == ~UInt16(0x0100))
        #expect(internetChecksum([0x12, 0x34, 0x56]) == ~UInt16(0x1234 + 0x5600))
        #expect(internetChecksum([0x12, 0x34, 0x56]) == internetChecksum([0x12, 0x34, 0x56, 0x00]))
    }

    @Test func carriesWrapAround() {
        #expect(internetChecksum([0xFF, 0xFF, 0x00, 0x01]) == 0xFFFE)
        #expect(internetChecksum(Array(repeating: 0xFF, count: 4000)) == 0x0000)
        #expect(internetChecksum([0x80, 0x00, 0x80, 0x00]) == ~UInt16(0x0001))
    }

    @Test func validDataWithItsChecksumSumsToZero() {
        var data: [UInt8] =
            [0x45, 0x10, 0x00, 0x38, 0xB0, 0x27, 0x40, 0x00, 0xFF, 0x70, 0x00, 0x00]
            + [0xC0, 0x00, 0x02, 0x0B, 0xE0, 0x00, 0x00, 0x12]
        let sum = internetChecksum(data)
        data[10] = UInt8(sum >> 8)
        data[11] = UInt8(sum & 0xFF)
        #expect(sum == 0x2900)  // as in loveVhid1Advert1
        #expect(internetChecksum(data) == 0)
    }

    @Test(arguments: CapturedAdvert.all)
    func capturedHeadersVerify(_ captured: CapturedAdvert) {
        #expect(internetChecksum(captured.frame[14..<34]) == 0)
        #expect(internetChecksum(captured.frame[34..<70]) == 0)
        // ucarp checks both at once, over IP header + CARP header.
        #expect(internetChecksum(captured.frame[14..<70]) == 0)
    }

    @Test func orderOfWordsDoesNotMatter() {
        #expect(internetChecksum([1, 2, 3, 4, 5, 6]) == internetChecksum([5, 6, 1, 2, 3, 4]))
    }
}
