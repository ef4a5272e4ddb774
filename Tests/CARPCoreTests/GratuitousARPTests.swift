import Testing

@testable import CARPCore

@Suite struct GratuitousARPTests {
    @Test func reproducesUcarpsGratuitousARPs() {
        #expect(
            GratuitousARP.frame(interfaceMAC: CapturedFrames.loveVhid1SenderMAC, virtualAddress: CapturedAdvert.vip100)
                == CapturedFrames.loveVhid1GratuitousARP)
        #expect(
            GratuitousARP.frame(
                interfaceMAC: CapturedFrames.secretVhid42SenderMAC, virtualAddress: CapturedAdvert.vip200)
                == CapturedFrames.secretVhid42GratuitousARP)
        #expect(
            GratuitousARP.frame(
                interfaceMAC: CapturedFrames.nomcastVhid1SenderMAC, virtualAddress: CapturedAdvert.vip100)
                == CapturedFrames.nomcastVhid1GratuitousARP)
    }

    @Test func isABroadcastARPRequestFromTheRealMAC() {
        let mac: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        let frame = GratuitousARP.frame(interfaceMAC: mac, virtualAddress: IPv4Address(198, 51, 100, 7))
        #expect(frame.count == 42)
        #expect(Array(frame[0..<6]) == CARPWire.broadcastMAC)
        #expect(Array(frame[6..<12]) == mac)
        #expect(Array(frame[12..<14]) == [0x08, 0x06])
        #expect(Array(frame[20..<22]) == [0x00, 0x01])  // request
        #expect(Array(frame[22..<28]) == mac)
        #expect(Array(frame[28..<32]) == [198, 51, 100, 7])
        #expect(Array(frame[32..<38]) == mac)
        #expect(Array(frame[38..<42]) == [198, 51, 100, 7])
    }
}
