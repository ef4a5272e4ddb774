// libFuzzer target: a captured Ethernet frame through `IPv4AdvertisementCodec.decode(frame:)` (every
// check and the HMAC-SHA1 digest), and every accepted advertisement into the election.
//
// The codecs are those of the ucarp runs in Tests/CARPCoreTests/CapturedFrames.swift (the seed
// corpus), with a source address of our own, so that the captured frames are accepted as they
// are. Each input is decoded twice: as given, and with the IPv4 and CARP checksums recomputed,
// so that a mutated counter, digest, advbase or advskew gets past the checksums to the digest
// check and, where the HMAC holds (it covers neither advbase nor advskew), into the election.
//
// Built only with SWIFTCARP_FUZZ=1 (see Package.swift); run with `make fuzz`.
import CARPCore
import Glibc

private let ourAddress = IPv4Address(192, 0, 2, 13)
private let group = CARPWire.defaultGroup

private func codec(vhid: UInt8, password: String, virtualAddress: IPv4Address, broadcast: Bool = false)
    -> IPv4AdvertisementCodec
{
    IPv4AdvertisementCodec(
        vhid: vhid, sourceAddress: ourAddress, group: group, broadcast: broadcast,
        authenticator: Authenticator(password: Array(password.utf8), vhid: vhid, virtualAddress: virtualAddress))
}

private let codecs: [IPv4AdvertisementCodec] = {
    // Cases 1, 3 and the hand-over: vhid 1, "love", 192.0.2.100; case 2: vhid 42, "s3cret-pass".
    let love = codec(vhid: 1, password: "love", virtualAddress: IPv4Address(192, 0, 2, 100))
    let secret = codec(vhid: 42, password: "s3cret-pass", virtualAddress: IPv4Address(192, 0, 2, 200))
    var unicast = love
    unicast.peers = [IPv4Address(192, 0, 2, 11), IPv4Address(192, 0, 2, 12)]
    return [love, secret, unicast]
}()

/// `frame` with the IPv4 header checksum and the CARP checksum made valid, if it is long enough.
private func withChecksumsFixed(_ frame: [UInt8]) -> [UInt8]? {
    let ipStart = CARPWire.ethernetHeaderLength
    guard frame.count > ipStart else { return nil }
    let ipHeaderLength = Int(frame[ipStart] & 0x0F) * 4
    let carpStart = ipStart + ipHeaderLength
    guard ipHeaderLength >= CARPWire.ipv4HeaderLength, frame.count >= carpStart + CARPWire.headerLength else {
        return nil
    }
    var fixed = frame
    fixed[ipStart + 10] = 0
    fixed[ipStart + 11] = 0
    let ipChecksum = internetChecksum(fixed[ipStart..<carpStart])
    fixed[ipStart + 10] = UInt8(ipChecksum >> 8)
    fixed[ipStart + 11] = UInt8(ipChecksum & 0xFF)
    fixed[carpStart + 6] = 0
    fixed[carpStart + 7] = 0
    let carpChecksum = internetChecksum(fixed[carpStart..<carpStart + CARPWire.headerLength])
    fixed[carpStart + 6] = UInt8(carpChecksum >> 8)
    fixed[carpStart + 7] = UInt8(carpChecksum & 0xFF)
    return fixed
}

/// An accepted advertisement must survive a round trip: the frame its sender would build from
/// it decodes to the same advertisement.
private func checkRoundTrip(_ advert: ReceivedAdvertisement, _ receiver: IPv4AdvertisementCodec) {
    guard let source = advert.source.ipv4 else { fatalError("an IPv4 codec accepted \(advert)") }
    var sender = receiver
    sender.sourceAddress = source
    sender.peers = []
    var frame = sender.frame(
        advbase: advert.advbase, advskew: advert.advskew, counter: advert.counter, ipIdentification: 0x1234)
    if !receiver.peers.isEmpty {
        // Unicast: addressed to the receiver, with the IPv4 checksum redone.
        frame.replaceSubrange(30..<34, with: receiver.sourceAddress.octets)
        frame = withChecksumsFixed(frame) ?? frame
    }
    guard receiver.decode(frame: frame) == .accepted(advert) else {
        fatalError("re-encoded advertisement \(advert) is not accepted: \(receiver.decode(frame: frame))")
    }
}

/// A few elections fed the advertisement: as a backup, then as a master, with and without
/// preemption, with a skew below and above the usual ones.
private func elect(_ advert: ReceivedAdvertisement, vhid: UInt8) {
    for preempt in [false, true] {
        for advskew: UInt8 in [0, 100, 255] {
            var machine = CARPStateMachine(
                configuration: .init(
                    vhid: vhid, advbase: 1, advskew: advskew, deadRatio: 3, preempt: preempt, neutral: false,
                    sourceAddress: ourAddress, initialCounter: 7))
            var now = MonotonicInstant(nanoseconds: 5_000_000_000)
            _ = machine.start(at: now)
            // Hear the advert, then let time reach the next deadline; twice.
            for _ in 0..<2 {
                // Screened as the daemon screens it (the second time a replay, dropped).
                if machine.screen(advert, at: now) == nil { _ = machine.received(advert, at: now) }
                check(machine, now)
                if let deadline = machine.nextDeadline {
                    now = max(now, deadline)
                    _ = machine.deadlinePassed(at: now)
                    check(machine, now)
                }
            }
            _ = machine.stepDown(at: now)
            _ = machine.received(advert, at: now)
            check(machine, now)
            _ = machine.shutdown(at: now)
        }
    }
}

private func check(_ machine: CARPStateMachine, _ now: MonotonicInstant) {
    guard machine.role == .backup || machine.role == .master else {
        fatalError("state \(machine.role) after an advertisement")
    }
    if let deadline = machine.nextDeadline, deadline < now {
        fatalError("deadline \(deadline) before now \(now) in state \(machine.role)")
    }
}

private func exercise(_ frame: [UInt8]) {
    for codec in codecs {
        switch codec.decode(frame: frame) {
        case .accepted(let advert):
            checkRoundTrip(advert, codec)
            elect(advert, vhid: codec.vhid)
        case .dropped(let error):
            // What the daemon does with it: count by reason, maybe log.
            _ = error.reason
            _ = error.isWarning
            _ = error.description
        case .ignored:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdvertisement(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let frame = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    exercise(frame)
    if let fixed = withChecksumsFixed(frame), fixed != frame {
        exercise(fixed)
    }
    return 0
}

// SwiftPM links an executable target with `main` aliased to the module's entry point, so the
// entry point is ours and hands over to libFuzzer's driver (with its usual flags and corpora).
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum Main {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, fuzzAdvertisement))
    }
}
