import CARPCore
import CPcap
import Testing

@testable import CARPDaemon

/// The kernel filter decides which frames wake an instance: it must pass our vhid's adverts
/// from others and nothing else that a CARP receiver could use.
struct PacketCaptureFilterTests {
    let password = Array("hunter2".utf8)
    let virtualAddress = IPv4Address(192, 0, 2, 100)

    func advert(vhid: UInt8, from source: IPv4Address) -> [UInt8] {
        let codec = IPv4AdvertisementCodec(
            vhid: vhid, sourceAddress: source, group: CARPWire.defaultGroup, broadcast: false,
            authenticator: Authenticator(password: password, vhid: vhid, virtualAddress: virtualAddress))
        return codec.frame(advbase: 1, advskew: 0, counter: 7, ipIdentification: 0x1234)
    }

    /// Whether the filter for (vhid, source) accepts `frame`, evaluated by libpcap itself.
    func filterAccepts(_ frame: [UInt8], vhid: UInt8, ourAddress: IPv4Address) throws -> Bool {
        try pcapFilterAccepts(frame, PacketCapture.filter(vhid: vhid, sourceAddress: ourAddress))
    }

    let us = IPv4Address(192, 0, 2, 11)
    let peer = IPv4Address(192, 0, 2, 12)

    @Test func passesAdvertsOfOurVhidFromAPeer() throws {
        #expect(try filterAccepts(advert(vhid: 7, from: peer), vhid: 7, ourAddress: us))
        #expect(try filterAccepts(advert(vhid: 255, from: peer), vhid: 255, ourAddress: us))
    }

    @Test func dropsOtherVhidsInTheKernel() throws {
        #expect(try !filterAccepts(advert(vhid: 8, from: peer), vhid: 7, ourAddress: us))
        #expect(try !filterAccepts(advert(vhid: 1, from: peer), vhid: 7, ourAddress: us))
    }

    @Test func dropsOurOwnAdverts() throws {
        #expect(try !filterAccepts(advert(vhid: 7, from: us), vhid: 7, ourAddress: us))
    }

    @Test func findsTheVhidBehindIPOptions() throws {
        // A 24-byte IP header (one 4-byte option): the vhid moves by four bytes.
        var frame = advert(vhid: 7, from: peer)
        frame[14] = 0x46
        frame.insert(contentsOf: [1, 1, 1, 0], at: 34)
        #expect(try filterAccepts(frame, vhid: 7, ourAddress: us))
        #expect(try !filterAccepts(frame, vhid: 4, ourAddress: us))
    }

    @Test func dropsOtherProtocols() throws {
        var frame = advert(vhid: 7, from: peer)
        frame[23] = 17  // UDP
        #expect(try !filterAccepts(frame, vhid: 7, ourAddress: us))
    }
}

/// Whether libpcap, compiling `expression` for Ethernet, accepts `frame`.
func pcapFilterAccepts(_ frame: [UInt8], _ expression: String) throws -> Bool {
    let dead = try #require(pcap_open_dead(DLT_EN10MB, 256))
    defer { pcap_close(dead) }
    var program = bpf_program()
    try #require(pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0, "\(expression)")
    defer { pcap_freecode(&program) }
    var header = pcap_pkthdr()
    header.caplen = UInt32(frame.count)
    header.len = UInt32(frame.count)
    return frame.withUnsafeBufferPointer { pcap_offline_filter(&program, &header, $0.baseAddress) != 0 }
}
