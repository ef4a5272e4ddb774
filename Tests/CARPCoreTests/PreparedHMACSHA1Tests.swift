import Crypto
import Testing

@testable import CARPCore

@Suite struct PreparedHMACSHA1Tests {
    /// swift-crypto's HMAC-SHA1 of `prefix + last`, the reference.
    static func reference(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func prepared(key: [UInt8], prefix: [UInt8], last: [UInt8]) -> [UInt8] {
        var hmac = PreparedHMACSHA1(key: key)
        prefix.withUnsafeBytes { hmac.update($0) }
        return Array(last.withUnsafeBytes { hmac.code(appending: $0) })
    }

    /// Keys of every length around the block's (64) and the password's limit, messages split
    /// anywhere.
    @Test(arguments: [0, 1, 4, 19, 20, 63, 64, 65, 200])
    func equalsSwiftCryptosHMAC(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for messageLength in [0, 7, 15, 55, 56, 64, 130] {
            let message = (0..<messageLength).map { UInt8(truncatingIfNeeded: $0 &* 101 &+ 3) }
            for split in Set([0, messageLength / 2, messageLength]) {
                #expect(
                    Self.prepared(key: key, prefix: Array(message[..<split]), last: Array(message[split...]))
                        == Self.reference(key: key, message))
            }
        }
    }

    /// RFC 2202's first HMAC-SHA1 test case.
    @Test func rfc2202FirstCase() {
        let digest = Self.prepared(
            key: Array(repeating: 0x0b, count: 20), prefix: Array("Hi ".utf8), last: Array("There".utf8))
        #expect(hexString(digest) == "b617318655057264e28bc0b6fb378c8ef146be00")
    }

    /// A code leaves the prepared state as it was: two codes in a row agree.
    @Test func codeLeavesThePreparedStateAlone() {
        var hmac = PreparedHMACSHA1(key: Array("love".utf8))
        Array("prefix".utf8).withUnsafeBytes { hmac.update($0) }
        let first = Array([1, 2, 3].withUnsafeBytes { hmac.code(appending: $0) })
        let second = Array([1, 2, 3].withUnsafeBytes { hmac.code(appending: $0) })
        #expect(first == second)
    }
}
