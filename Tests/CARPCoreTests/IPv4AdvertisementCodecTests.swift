import Testing

@testable import CARPCore

@Suite struct IPv4AdvertisementCodecTests {
    /// A receiver of the `love` / vhid 1 adverts sent by 192.0.2.11.
    let receiver = CapturedAdvert.all[0].receiverCodec(source: CapturedAdvert.h2)
    let valid = CapturedFrames.loveVhid1Advert1
    var accepted: IPv4AdvertisementCodec.Outcome {
        .accepted(
            ReceivedAdvertisement(source: CapturedAdvert.h1, advbase: 1, advskew: 0, counter: 0x12d2_83c3_9183_0d24))
    }

    // MARK: Encoding

    @Test(arguments: CapturedAdvert.all)
    func frameReproducesWhatUcarpSent(_ captured: CapturedAdvert) {
        let frame = captured.senderCodec.frame(
            advbase: captured.advbase, advskew: captured.advskew, counter: captured.counter,
            ipIdentification: captured.ipIdentification)
        #expect(frame.count == CARPWire.frameLength)
        #expect(hexString(frame) == hexString(captured.frame))
    }

    @Test func headerIsTheCapturedCARPHeader() {
        let captured = CapturedAdvert.all[6]
        #expect(captured.vhid == 42 && captured.advbase == 3 && captured.advskew == 100)
        let header = captured.senderCodec.header(advbase: 3, advskew: 100, counter: captured.counter)
        #expect(header == Array(captured.frame[Offset.carp..<70]))
        let received = ReceivedAdvertisement(
            source: captured.sourceAddress, advbase: 3, advskew: 100, counter: captured.counter)
        #expect(received.interval == AdvertisementInterval(base: 3, skew: 100))
    }

    @Test func frameUsesTheVirtualMACAsSourceAndTheGroupMACAsDestination() {
        let codec = IPv4AdvertisementCodec(
            vhid: 200, sourceAddress: CapturedAdvert.h1, group: IPv4Address(239, 255, 1, 2), broadcast: false,
            authenticator: Authenticator(password: Array("pw".utf8), vhid: 200, virtualAddress: CapturedAdvert.vip100))
        let frame = codec.frame(advbase: 1, advskew: 0, counter: 7, ipIdentification: 0x1234)
        #expect(Array(frame[0..<6]) == [0x01, 0x00, 0x5E, 0x7F, 0x01, 0x02])
        #expect(Array(frame[6..<12]) == [0x00, 0x00, 0x5E, 0x00, 0x00, 200])
        #expect(Array(frame[Offset.ipDestination..<Offset.ipDestination + 4]) == [239, 255, 1, 2])
        #expect(Array(frame[Offset.ipIdentification..<Offset.ipIdentification + 2]) == [0x12, 0x34])
        #expect(frame[Offset.ipTTL] == 255)
        #expect(frame[Offset.ipProtocol] == 112)
        #expect(frame[Offset.ipTypeOfService] == 0x10)
    }

    @Test func broadcastChangesOnlyTheEthernetDestination() {
        let multicast = CapturedAdvert.all[0].senderCodec
        var broadcast = multicast
        broadcast.broadcast = true
        let a = multicast.frame(advbase: 1, advskew: 0, counter: 1, ipIdentification: 1)
        let b = broadcast.frame(advbase: 1, advskew: 0, counter: 1, ipIdentification: 1)
        #expect(Array(b[0..<6]) == CARPWire.broadcastMAC)
        #expect(Array(a[6...]) == Array(b[6...]))
    }

    /// Frames are patched copies of one template: changing the codec rebuilds it, and no
    /// frame's fields remain in the next.
    @Test func framesFollowTheCodecAndDoNotLeakIntoEachOther() {
        let fresh = CapturedAdvert.all[0].senderCodec
        var changed = CapturedAdvert.all[6].senderCodec
        changed.vhid = fresh.vhid
        changed.sourceAddress = fresh.sourceAddress
        changed.group = fresh.group
        changed.broadcast = fresh.broadcast
        changed.authenticator = fresh.authenticator
        _ = changed.frame(advbase: 255, advskew: 255, counter: .max, ipIdentification: 0xFFFF)
        #expect(
            changed.frame(advbase: 1, advskew: 0, counter: 2, ipIdentification: 3)
                == fresh.frame(advbase: 1, advskew: 0, counter: 2, ipIdentification: 3))
        #expect(
            changed.header(advbase: 1, advskew: 0, counter: 2)
                == Array(fresh.frame(advbase: 1, advskew: 0, counter: 2, ipIdentification: 3)[Offset.carp...]))
    }

    @Test func aFrameWeBuildIsAcceptedByAPeer() {
        let sender = CapturedAdvert.all[0].senderCodec
        let frame = sender.frame(advbase: 7, advskew: 201, counter: .max, ipIdentification: 0xFFFF)
        #expect(
            receiver.decode(frame: frame)
                == .accepted(ReceivedAdvertisement(source: CapturedAdvert.h1, advbase: 7, advskew: 201, counter: .max)))
    }

    // MARK: Accepting

    @Test(arguments: CapturedAdvert.all)
    func capturedAdvertIsAcceptedByAPeer(_ captured: CapturedAdvert) {
        let outcome = captured.receiverCodec().decode(frame: captured.frame)
        #expect(
            outcome
                == .accepted(
                    ReceivedAdvertisement(
                        source: captured.sourceAddress, advbase: captured.advbase, advskew: captured.advskew,
                        counter: captured.counter)))
    }

    @Test func decodeAcceptsASliceWithANonZeroStartIndex() {
        let padded = [0xAA, 0xBB] + valid
        #expect(receiver.decode(frame: padded[2...]) == accepted)
    }

    @Test func trailingEthernetPaddingIsAccepted() {
        // Some NICs hand up frames with trailing bytes; the IP total length says 56.
        #expect(receiver.decode(frame: valid + [0, 0, 0, 0]) == accepted)
    }

    // MARK: Dropping, in ucarp's order

    @Test func truncatedFrameIsDropped() {
        #expect(receiver.decode(frame: valid.prefix(69)) == .dropped(.truncated(length: 55)))
        #expect(receiver.decode(frame: valid.prefix(35)) == .dropped(.truncated(length: 21)))
    }

    @Test func ipTotalLengthShorterThanACARPPacketIsDroppedAsTruncated() {
        let frame = valid.modified { $0[Offset.ipTotalLength + 1] = 55 }
        #expect(receiver.decode(frame: frame) == .dropped(.truncated(length: 55)))
    }

    @Test func ttlOtherThan255IsDropped() {
        let frame = valid.modified { $0[Offset.ipTTL] = 64 }
        #expect(receiver.decode(frame: frame) == .dropped(.badTTL(64)))
        #expect(AdvertisementError.badTTL(64).description.contains("64"))
    }

    @Test func version3IsDropped() {
        let frame = valid.modified { $0[Offset.carp] = 0x31 }
        #expect(receiver.decode(frame: frame) == .dropped(.badVersion(3)))
    }

    @Test func type2IsDropped() {
        let frame = valid.modified { $0[Offset.carp] = 0x22 }
        #expect(receiver.decode(frame: frame) == .dropped(.badType(2)))
    }

    @Test func otherVHIDIsDropped() {
        let frame = valid.modified { $0[Offset.carpVHID] = 2 }
        #expect(receiver.decode(frame: frame) == .dropped(.otherVHID(2)))
        // Also without fixing the checksum: the vhid is checked before the checksums.
        var unfixed = valid
        unfixed[Offset.carpVHID] = 2
        #expect(receiver.decode(frame: unfixed) == .dropped(.otherVHID(2)))
    }

    @Test func otherDestinationIsDropped() {
        let other = IPv4Address(224, 0, 0, 19)
        let frame = valid.modified { $0.write(other, at: Offset.ipDestination) }
        #expect(receiver.decode(frame: frame) == .dropped(.otherDestination(other)))
        #expect(AdvertisementError.otherDestination(other).description.contains("224.0.0.19"))
    }

    @Test func receiverWithAnotherGroupDropsAdvertsToTheDefaultGroup() {
        var codec = receiver
        codec.group = IPv4Address(239, 1, 1, 1)
        #expect(codec.decode(frame: valid) == .dropped(.otherDestination(CARPWire.defaultGroup)))
    }

    @Test func corruptedIPChecksumIsDropped() {
        var frame = valid
        frame[Offset.ipChecksum] ^= 0x01
        #expect(receiver.decode(frame: frame) == .dropped(.badChecksum))
    }

    @Test func corruptedCARPChecksumIsDropped() {
        var frame = valid
        frame[Offset.carpChecksum + 1] ^= 0x80
        #expect(receiver.decode(frame: frame) == .dropped(.badChecksum))
    }

    @Test func wrongPasswordIsDroppedAsBadDigest() {
        let codec = CapturedAdvert.all[0].receiverCodec(password: "hate")
        let expected = Authenticator(password: Array("hate".utf8), vhid: 1, virtualAddress: CapturedAdvert.vip100)
            .digest(counter: 0x12d2_83c3_9183_0d24)
        #expect(
            codec.decode(frame: valid)
                == .dropped(
                    .badDigest(expectedPrefix: Array(expected.prefix(4)), receivedPrefix: [0x14, 0xdc, 0xfa, 0x8a])))
        let message = AdvertisementError.badDigest(
            expectedPrefix: Array(expected.prefix(4)), receivedPrefix: [0x14, 0xdc, 0xfa, 0x8a]
        )
        .description
        #expect(message.contains("md=[14dcfa8a...]"))
        #expect(message.contains("Check vhid, password and virtual IP address"))
    }

    @Test func wrongVirtualAddressIsDroppedAsBadDigest() {
        let codec = CapturedAdvert.all[0].receiverCodec(virtualAddress: IPv4Address(192, 0, 2, 101))
        guard case .dropped(.badDigest) = codec.decode(frame: valid) else {
            Issue.record("expected a bad digest")
            return
        }
    }

    @Test func corruptedCounterOrDigestWithFixedChecksumsIsDroppedAsBadDigest() {
        for offset in Offset.carpCounter..<70 {
            let frame = valid.modified { $0[offset] ^= 0x04 }
            guard case .dropped(.badDigest) = receiver.decode(frame: frame) else {
                Issue.record("byte \(offset): expected a bad digest")
                continue
            }
        }
    }

    /// As in ucarp and the BSDs, the digest covers vhid, address and counter but not advbase or
    /// advskew: a frame re-checksummed after changing them is still authentic.
    @Test func timingFieldsAreNotCoveredByTheDigest() {
        let frame = valid.modified {
            $0[Offset.carpAdvbase] = 9
            $0[Offset.carpAdvskew] = 77
        }
        #expect(
            receiver.decode(frame: frame)
                == .accepted(
                    ReceivedAdvertisement(
                        source: CapturedAdvert.h1, advbase: 9, advskew: 77, counter: 0x12d2_83c3_9183_0d24)))
    }

    @Test func dropsCarryUcarpsWarningLevels() {
        #expect(AdvertisementError.truncated(length: 40).isWarning == false)
        #expect(AdvertisementError.otherVHID(2).isWarning == false)
        #expect(AdvertisementError.badTTL(1).isWarning)
        #expect(AdvertisementError.badChecksum.isWarning)
        #expect(AdvertisementError.badChecksum.reason == .badChecksum)
        #expect(AdvertisementError.truncated(length: 40).description.contains("40"))
    }

    // MARK: Ignoring

    @Test func ourOwnAdvertIsIgnored() {
        #expect(CapturedAdvert.all[0].senderCodec.decode(frame: valid) == .ignored)
    }

    @Test func otherIPProtocolIsIgnored() {
        let frame = valid.modified { $0[Offset.ipProtocol] = 17 }
        #expect(receiver.decode(frame: frame) == .ignored)
    }

    @Test func nonIPv4EtherTypeIsIgnored() {
        let ipv6 = valid.modified(fixingChecksums: false) {
            $0[Offset.etherType] = 0x86
            $0[Offset.etherType + 1] = 0xDD
        }
        #expect(receiver.decode(frame: ipv6) == .ignored)
        let arp = valid.modified(fixingChecksums: false) { $0[Offset.etherType + 1] = 0x06 }
        #expect(receiver.decode(frame: arp) == .ignored)
    }

    @Test func frameTooShortForIPv4IsIgnored() {
        #expect(receiver.decode(frame: [UInt8]()) == .ignored)
        #expect(receiver.decode(frame: valid.prefix(14)) == .ignored)
        // ucarp: `caplen <= sizeof etherhead + sizeof iphead` returns silently.
        #expect(receiver.decode(frame: valid.prefix(34)) == .ignored)
    }

    // MARK: VRRP

    /// A keepalived VRRPv2 advertisement: vrid 1, priority 100, one address, no authentication.
    static func vrrpFrame(paddedTo length: Int? = nil) -> [UInt8] {
        var frame: [UInt8] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12, 0x00, 0x00, 0x5E, 0x00, 0x01, 0x01, 0x08, 0x00]
        var ip: [UInt8] = [0x45, 0xC0, 0x00, 40, 0x00, 0x00, 0x00, 0x00, 255, 112, 0, 0]
        ip += IPv4Address(192, 0, 2, 13).octets + CARPWire.defaultGroup.octets
        let ipSum = internetChecksum(ip)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xFF)
        // version 2 / type 1, vrid, priority, count, auth type, adver int, checksum, address, auth data
        var vrrp: [UInt8] =
            [0x21, 1, 100, 1, 0, 1, 0, 0] + CapturedAdvert.vip100.octets + Array(repeating: 0, count: 8)
        let vrrpSum = internetChecksum(vrrp)
        vrrp[6] = UInt8(vrrpSum >> 8)
        vrrp[7] = UInt8(vrrpSum & 0xFF)
        frame += ip + vrrp
        precondition(frame.count == 54)
        if let length { frame += Array(repeating: 0, count: length - frame.count) }
        return frame
    }

    @Test(arguments: [nil, 60, 70, 100] as [Int?])
    func keepalivedVRRPv2PacketIsDroppedAsTruncated(paddedTo length: Int?) {
        let frame = Self.vrrpFrame(paddedTo: length)
        #expect(internetChecksum(frame[14..<34]) == 0)
        #expect(receiver.decode(frame: frame) == .dropped(.truncated(length: 40)))
    }

    // MARK: Fuzz-ish

    @Test func everyTruncationIsRejected() {
        for length in 0..<valid.count {
            let outcome = receiver.decode(frame: valid.prefix(length))
            if length <= 34 {
                #expect(outcome == .ignored, "length \(length)")
            } else {
                #expect(outcome == .dropped(.truncated(length: length - 14)), "length \(length)")
            }
        }
        #expect(receiver.decode(frame: valid) == accepted)
    }

    /// What a single flipped bit must lead to, byte by byte.
    ///
    /// Only the Ethernet addresses are outside every check. Everything in the IPv4 header (TOS and
    /// id included) is covered by the IPv4 header checksum, everything in the CARP header by the
    /// CARP checksum, and a single flipped bit always changes a ones'-complement sum; fields
    /// checked before the checksums report their own error first.
    func expectedOutcome(of flipped: [UInt8], at offset: Int) -> IPv4AdvertisementCodec.Outcome {
        switch offset {
        case 0..<12:
            return accepted
        case 12, 13:
            return .ignored
        case Offset.ip:
            if flipped[offset] >> 4 != 4 { return .ignored }
            let headerLength = Int(flipped[offset] & 0x0F) * 4
            if headerLength < 20 { return .dropped(.malformedIPHeader(headerLength: headerLength)) }
            return .dropped(.truncated(length: 56))
        case Offset.ipTotalLength, Offset.ipTotalLength + 1:
            let total = Int(flipped[16]) << 8 | Int(flipped[17])
            return total < 56 ? .dropped(.truncated(length: total)) : .dropped(.oversized(length: total))
        case Offset.ipTTL:
            return .dropped(.badTTL(flipped[offset]))
        case Offset.ipProtocol:
            return .ignored
        case Offset.ipSource..<Offset.ipSource + 4:
            let source = IPv4Address(networkOrder: flipped, at: Offset.ipSource)
            return source == receiver.sourceAddress ? .ignored : .dropped(.badChecksum)
        case Offset.ipDestination..<Offset.ipDestination + 4:
            return .dropped(.otherDestination(IPv4Address(networkOrder: flipped, at: Offset.ipDestination)))
        case Offset.carp:
            let version = flipped[offset] >> 4
            return version != 2 ? .dropped(.badVersion(version)) : .dropped(.badType(flipped[offset] & 0x0F))
        case Offset.carpVHID:
            return .dropped(.otherVHID(flipped[offset]))
        default:
            // TOS, id, flags, IP checksum; advskew, authlen, reserved, advbase, CARP checksum,
            // counter, digest.
            return .dropped(.badChecksum)
        }
    }

    /// A valid advert with bytes appended inside the IP datagram (total length raised, checksums
    /// fixed): the digest would still verify, but it is not what any CARP speaker sends.
    @Test func anOversizedAdvertIsDropped() {
        var frame = valid
        frame += [0, 0, 0, 0]
        frame[16] = 0
        frame[17] = 60
        frame[24] = 0
        frame[25] = 0
        let checksum = internetChecksum(frame[14..<34])
        frame[24] = UInt8(checksum >> 8)
        frame[25] = UInt8(checksum & 0xFF)
        #expect(receiver.decode(frame: frame) == .dropped(.oversized(length: 60)))
    }

    @Test func everySingleBitFlipIsRejectedUnlessOutsideEveryCheck() {
        var acceptedCount = 0
        for offset in 0..<valid.count {
            for bit in 0..<8 {
                var flipped = valid
                flipped[offset] ^= 1 << bit
                let outcome = receiver.decode(frame: flipped)
                #expect(outcome == expectedOutcome(of: flipped, at: offset), "byte \(offset) bit \(bit)")
                if case .accepted = outcome { acceptedCount += 1 }
            }
        }
        // Exactly the 96 bits of the two Ethernet addresses.
        #expect(acceptedCount == 96)
    }

    @Test func everySingleBitFlipInAuthenticatedBytesIsRejectedEvenWithChecksumsRepaired() {
        // Someone who fixes both checksums still cannot change vhid, group, counter or digest.
        // (The IP source is not authenticated, in ucarp as in the BSDs.)
        for offset in [Offset.carpVHID] + Array(Offset.ipDestination..<Offset.ipDestination + 4)
            + Array(Offset.carpCounter..<70)
        {
            for bit in 0..<8 {
                let flipped = valid.modified { $0[offset] ^= 1 << bit }
                if case .accepted = receiver.decode(frame: flipped) {
                    Issue.record("byte \(offset) bit \(bit) was accepted")
                }
            }
        }
    }

    @Test func onlyAdvbaseAndAdvskew255MakeALeavingAdvertisement() {
        let source = IPv4Address(192, 0, 2, 1)
        #expect(ReceivedAdvertisement(source: source, advbase: 255, advskew: 255, counter: 1).isLeaving)
        #expect(!ReceivedAdvertisement(source: source, advbase: 255, advskew: 254, counter: 1).isLeaving)
        #expect(!ReceivedAdvertisement(source: source, advbase: 1, advskew: 255, counter: 1).isLeaving)
    }
}
