import Crypto

/// HMAC-SHA1 (RFC 2104) keyed once: the inner and outer SHA-1 states after the padded key,
/// as the BSD `carp_hmac_prepare` keeps them. A digest copies both states and feeds them the
/// message and the inner hash through swift-crypto's `Insecure.SHA1`, whose concrete methods
/// are called directly: no generic `HMAC` (its `update` goes over `DataProtocol` regions, with
/// the generic-metadata look-ups that costs at every advertisement).
///
/// The result is swift-crypto's `HMAC<Insecure.SHA1>` for the same key and message
/// (`PreparedHMACSHA1Tests`).
struct PreparedHMACSHA1: Sendable {
    private var inner = Insecure.SHA1()
    private var outer = Insecure.SHA1()

    /// SHA-1's block: a longer key is hashed first, a shorter one zero-padded to it.
    static let blockLength = 64

    init(key: [UInt8]) {
        var block = key.count > Self.blockLength ? Array(Insecure.SHA1.hash(data: key)) : key
        block += Array(repeating: 0, count: Self.blockLength - block.count)
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5c }.withUnsafeBytes { outer.update(bufferPointer: $0) }
    }

    /// Feeds `bytes` to the message (the prefix, once, when preparing).
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        inner.update(bufferPointer: bytes)
    }

    /// The code of the message fed so far followed by `last`; the prepared states are left as
    /// they were.
    func code(appending last: UnsafeRawBufferPointer) -> Insecure.SHA1Digest {
        var inner = inner
        inner.update(bufferPointer: last)
        var outer = outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
