import Testing

@testable import CARPCore

@Suite struct AuthenticatorTests {
    static let vip = IPv4Address(10, 0, 0, 100)
    let love = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: Self.vip)

    @Test func knownAnswerForLoveVhid1Counter1() {
        #expect(hexString(love.digest(counter: 1)) == "a57228fe58cacbeb3eb36032ecbcaaa46e4f91fb")
    }

    @Test func messagePrefixIsVersionTypeVhidAddress() {
        #expect(
            Authenticator.messagePrefix(vhid: 1, virtualAddress: Self.vip) == [
                0x02, 0x01, 0x01, 0x0a, 0x00, 0x00, 0x64,
            ])
    }

    @Test func digestIsTwentyBytesAndDeterministic() {
        #expect(love.digest(counter: 42).count == CARPWire.digestLength)
        #expect(love.digest(counter: 42) == love.digest(counter: 42))
        #expect(love.isValid(digest: love.digest(counter: 42), counter: 42))
    }

    @Test(arguments: [0, 2, 1 << 32, 1 << 63, .max] as [UInt64])
    func otherCounterChangesTheDigest(_ counter: UInt64) {
        #expect(love.digest(counter: counter) != love.digest(counter: 1))
        #expect(!love.isValid(digest: love.digest(counter: 1), counter: counter))
    }

    @Test func otherVhidChangesTheDigest() {
        let other = Authenticator(password: Array("love".utf8), vhid: 2, virtualAddress: Self.vip)
        #expect(other.digest(counter: 1) != love.digest(counter: 1))
    }

    @Test func otherAddressChangesTheDigest() {
        let other = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: IPv4Address(10, 0, 0, 101))
        #expect(other.digest(counter: 1) != love.digest(counter: 1))
    }

    @Test func otherPasswordChangesTheDigest() {
        for password in ["Love", "lov", "love ", "love\u{0}x"] {
            let other = Authenticator(password: Array(password.utf8), vhid: 1, virtualAddress: Self.vip)
            #expect(other.digest(counter: 1) != love.digest(counter: 1), "password \(password.debugDescription)")
        }
    }

    @Test func longestPasswordUcarpAcceptsWorks() {
        let password = Array("0123456789abcdefghi".utf8)
        #expect(password.count == CARPWire.maximumPasswordLength)
        let authenticator = Authenticator(password: password, vhid: 1, virtualAddress: Self.vip)
        #expect(authenticator.isValid(digest: authenticator.digest(counter: 9), counter: 9))
        #expect(authenticator.digest(counter: 9) != love.digest(counter: 9))
    }

    @Test func isValidRejectsDigestsOfWrongLength() {
        let digest = love.digest(counter: 1)
        #expect(!love.isValid(digest: [UInt8](), counter: 1))
        #expect(!love.isValid(digest: digest.dropLast(), counter: 1))
        #expect(!love.isValid(digest: digest + [0], counter: 1))
        #expect(!love.isValid(digest: digest.prefix(4), counter: 1))
    }

    @Test func isValidRejectsEveryFlippedBit() {
        let digest = love.digest(counter: 1)
        for index in digest.indices {
            for bit in 0..<8 {
                var flipped = digest
                flipped[index] ^= 1 << bit
                #expect(!love.isValid(digest: flipped, counter: 1), "byte \(index) bit \(bit)")
            }
        }
    }

    @Test func isValidAcceptsASliceOfAFrame() {
        let captured = CapturedAdvert.all[0]
        let authenticator = Authenticator(password: Array("love".utf8), vhid: 1, virtualAddress: CapturedAdvert.vip100)
        #expect(authenticator.isValid(digest: captured.frame[Offset.carpDigest..<70], counter: captured.counter))
    }

    @Test(arguments: CapturedAdvert.all)
    func capturedDigestsAreReproduced(_ captured: CapturedAdvert) {
        let authenticator = Authenticator(
            password: Array(captured.password.utf8), vhid: captured.vhid, virtualAddress: captured.virtualAddress)
        #expect(authenticator.digest(counter: captured.counter) == Array(captured.frame[Offset.carpDigest..<70]))
    }
}
