import Crypto

/// The authenticator of `--auth=strict`: HMAC-SHA256, truncated to the 20 bytes of the digest
/// field, over everything a receiver acts on.
///
/// The message, in this order:
///
/// | bytes | what |
/// |---|---|
/// | 18 | ``label``, the ASCII text `SwiftCARP strict 1` |
/// | 2 | the length of the next field, most significant byte first |
/// | n | ucarp's message without its counter: version, type, vhid, then the sorted addresses (``Authenticator/messagePrefix(vhid:virtualAddresses:)``) |
/// | 1 + 4 or 1 + 16 | the IP source of the advert: `4` and its 4 bytes, or `6` and its 16 |
/// | 1 | advbase |
/// | 1 | advskew |
/// | 8 | the counter, most significant byte first |
///
/// The key is the password, as in ucarp mode. The label keeps the message apart from ucarp's
/// (a different hash already does) and from any later version of this one. The wire layout is
/// ucarp's: the same 36-byte header, authlen 7, the counter where ucarp puts it; only the digest
/// and what the counter means differ (``StrictReplayWindow``).
struct StrictAuthenticator: Sendable {
    /// The first bytes of every signed message.
    static let label = Array("SwiftCARP strict 1".utf8)

    private let prepared: HMAC<SHA256>

    /// - Parameter messagePrefix: version, type, vhid and the addresses, as ucarp mode signs them.
    init(password: [UInt8], messagePrefix: [UInt8]) {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: password))
        hmac.update(data: Self.label)
        hmac.update(data: [
            UInt8(truncatingIfNeeded: messagePrefix.count >> 8), UInt8(truncatingIfNeeded: messagePrefix.count),
        ])
        hmac.update(data: messagePrefix)
        self.prepared = hmac
    }

    /// The full 32-byte HMAC-SHA256 of an advert's fields; the wire carries its first
    /// ``CARPWire/digestLength`` bytes.
    func code(source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64) -> HashedAuthenticationCode<SHA256> {
        var hmac = prepared
        switch source {
        case .ipv4(let address): hmac.update(data: [4] + address.octets)
        case .ipv6(let address): hmac.update(data: [6] + address.octets)
        }
        hmac.update(data: [advbase, advskew])
        withUnsafeBytes(of: counter.bigEndian) { hmac.update(data: $0) }
        return hmac.finalize()
    }
}
