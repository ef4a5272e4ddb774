// IPv6 advertisement frames made by hand, without our encoder: ucarp has no IPv6 to capture
// from, so each frame was assembled with python3's `struct`, `ipaddress`, `hmac` and `hashlib`
// from the BSD rules (FreeBSD `carp_send_ad_locked`, doc/ipv6-and-several-addresses.md):
//
//     message = bytes([2, 1, vhid]) + IPv4 addresses (sorted by value, 4 bytes each)
//               + IPv6 addresses (sorted by bytes, 16 each) + struct.pack('!Q', counter)
//     carp    = struct.pack('!BBBBBBH', 0x21, vhid, advskew, 7, 0, advbase, 0)
//               + struct.pack('!Q', counter) + hmac.new(password, message, hashlib.sha1).digest()
//     carp[6:8] = RFC 1071 checksum of the 36 carp bytes (no pseudo-header)
//     ipv6    = struct.pack('!IHBB', 6 << 28 | trafficClass << 20, 36, 112, hopLimit) + src + dst
//     frame   = dstMAC + srcMAC + b'\x86\xdd' + ipv6 + carp
//
// scapy 2.5 (Debian's python3-scapy) read each frame back as IPv6 with the intended traffic
// class, payload length 36, next header 112, hop limit 255, addresses, and a CARP checksum
// that sums to zero.
@testable import CARPCore

enum HandMadeIPv6Frames {
    /// vhid 1, password `love`, virtual address 2001:db8::100; from 2001:db8::11 to ff02::12,
    /// traffic class 0xe0, advbase 1, advskew 0, counter 0x12d283c391830d24.
    static let loveVhid1 = bytes(
        hex: "333300000012" + "00005e000001" + "86dd"  // Ethernet: 33:33:00:00:00:12, 00:00:5e:00:00:01
            + "6e000000" + "0024" + "70" + "ff"  // IPv6: class 0xe0, payload 36, next 112, hop limit 255
            + "20010db8000000000000000000000011" + "ff020000000000000000000000000012"
            + "21010007" + "0001" + "4a21" + "12d283c391830d24"  // CARP: 0x21, vhid, skew, authlen, -, base, sum
            + "3f08d2a12f6f8be357510d40ca868b99181bbfce")

    /// vhid 42, password `s3cret-pass`, virtual addresses 192.0.2.200 and 2001:db8::200; from
    /// 2001:db8::12 to ff02::12, advbase 3, advskew 100, counter 0x0000000100000002.
    static let secretVhid42Mixed = bytes(
        hex: "333300000012" + "00005e00002a" + "86dd"
            + "6e000000" + "0024" + "70" + "ff"
            + "20010db8000000000000000000000012" + "ff020000000000000000000000000012"
            + "212a6407" + "0003" + "00fc" + "0000000100000002"
            + "2c95ca43fa307f93f23125df298ebb34e9c42296")

    /// A unicast advert as the kernel sends it for a raw AF_INET6 socket (`--peer`): vhid 9,
    /// password `pw`, virtual address 2001:db8::900; from 2001:db8::12 (MAC 02:00:00:00:00:12) to
    /// 2001:db8::11 (MAC 02:00:00:00:00:11), traffic class 0, advbase 1, advskew 7, counter 42.
    static let unicastVhid9 = bytes(
        hex: "020000000011" + "020000000012" + "86dd"
            + "60000000" + "0024" + "70" + "ff"
            + "20010db8000000000000000000000012" + "20010db8000000000000000000000011"
            + "21090707" + "0001" + "71e4" + "000000000000002a"
            + "4d40dd44f284dc5da6817d5a6c4e907bcff37bde")
}

/// Byte offsets inside a 90-byte IPv6 advertisement frame.
enum IPv6Offset {
    static let ip = 14
    static let payloadLength = 18
    static let nextHeader = 20
    static let hopLimit = 21
    static let source = 22
    static let destination = 38
    static let carp = 54
    static let carpVHID = 55
    static let carpChecksum = 60
    static let carpDigest = 70
}

/// The bytes of a string of hex digits (test fixtures only: traps on anything else).
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0, "an even number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            preconditionFailure("not hex: \(hex)")
        }
        return byte
    }
}

extension Array where Element == UInt8 {
    /// A copy of an IPv6 advertisement frame with `body` applied, then its CARP checksum
    /// recomputed (IPv6 has no header checksum), so that only the check under test can fail.
    func modifiedIPv6(fixingChecksum: Bool = true, _ body: (inout [UInt8]) -> Void) -> [UInt8] {
        var copy = self
        body(&copy)
        if fixingChecksum, copy.count >= IPv6Offset.carp + CARPWire.headerLength {
            copy[IPv6Offset.carpChecksum] = 0
            copy[IPv6Offset.carpChecksum + 1] = 0
            let sum = internetChecksum(copy[IPv6Offset.carp..<IPv6Offset.carp + CARPWire.headerLength])
            copy[IPv6Offset.carpChecksum] = UInt8(sum >> 8)
            copy[IPv6Offset.carpChecksum + 1] = UInt8(sum & 0xFF)
        }
        return copy
    }

    mutating func write(_ address: IPv6Address, at offset: Int) {
        replaceSubrange(offset..<offset + 16, with: address.octets)
    }
}
