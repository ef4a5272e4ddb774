import Crypto

/// Signs and verifies advertisements of one virtual host with HMAC-SHA1.
///
/// The message is `version, type, vhid, virtual address, counter`. As in ucarp and the BSD
/// `carp_hmac_prepare`, the keyed state over the fixed prefix is computed once; each digest
/// only feeds the 8 counter bytes to a copy of it.
public struct Authenticator: Sendable {
    private let prepared: HMAC<Insecure.SHA1>

    /// - Parameter password: the key bytes; at most ``CARPWire/maximumPasswordLength``
    ///   (the settings enforce it). ucarp zero-pads the key to 20 bytes, which leaves the HMAC
    ///   unchanged, so the plain password is the key.
    public init(password: [UInt8], vhid: UInt8, virtualAddress: IPv4Address) {
        var hmac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: password))
        hmac.update(data: Self.messagePrefix(vhid: vhid, virtualAddress: virtualAddress))
        self.prepared = hmac
    }

    /// The fixed first 7 bytes of the signed message.
    static func messagePrefix(vhid: UInt8, virtualAddress: IPv4Address) -> [UInt8] {
        [CARPWire.version, CARPWire.typeAdvertisement, vhid] + virtualAddress.octets
    }

    /// HMAC-SHA1 over the message for `counter`.
    public func digest(counter: UInt64) -> [UInt8] {
        Array(authenticationCode(counter: counter))
    }

    /// Writes the digest for `counter` into the first ``CARPWire/digestLength`` bytes of
    /// `destination`, without an intermediate array.
    public func sign(counter: UInt64, into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= CARPWire.digestLength)
        authenticationCode(counter: counter).withUnsafeBytes { code in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: code.prefix(CARPWire.digestLength)))
        }
    }

    /// Whether `digest` is the one for `counter`, compared in constant time.
    public func isValid(digest: some Collection<UInt8>, counter: UInt64) -> Bool {
        authenticationCode(counter: counter).withUnsafeBytes { expected in
            guard digest.count == expected.count else { return false }
            var difference: UInt8 = 0
            for (a, b) in zip(expected, digest) {
                difference |= a ^ b
            }
            return difference == 0
        }
    }

    private func authenticationCode(counter: UInt64) -> HashedAuthenticationCode<Insecure.SHA1> {
        var hmac = prepared
        withUnsafeBytes(of: counter.bigEndian) { hmac.update(data: $0) }
        return hmac.finalize()
    }
}
