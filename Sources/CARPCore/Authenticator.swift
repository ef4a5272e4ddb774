import Crypto

/// Signs and verifies advertisements of one virtual host: with HMAC-SHA1 as ucarp does
/// (`--auth=ucarp`, the default), or with ``StrictAuthenticator``'s HMAC-SHA256 (`--auth=strict`).
///
/// In either mode an advert that fails our digest is tried with the other mode's: one that
/// passes comes from a host that knows the password but runs the other mode, and is reported
/// so (``AdvertisementError/otherAuthMode(source:mode:)``) rather than as a bad digest.
///
/// The message is `version, type, vhid, virtual addresses, counter`, the addresses as the BSD
/// `carp_hmac_prepare` orders them (see ``messagePrefix(vhid:virtualAddresses:)``); with one
/// IPv4 address that is ucarp's message. As in ucarp and the BSD kernels, the keyed state over
/// the fixed prefix is computed once; each digest only feeds the 8 counter bytes to a copy of it.
public struct Authenticator: Sendable {
    private let prepared: PreparedHMACSHA1
    private let strict: StrictAuthenticator
    /// The mode we sign in and accept.
    public let mode: AuthenticationMode
    /// Whether the message is ucarp's (exactly one IPv4 address, no IPv6): a bad digest is then
    /// reported in ucarp's words, else as a possibly different set of addresses.
    public let signsLikeUcarp: Bool

    /// - Parameter password: the key bytes; at most ``CARPWire/maximumPasswordLength``
    ///   (the settings enforce it). ucarp zero-pads the key to 20 bytes, which leaves the HMAC
    ///   unchanged, so the plain password is the key.
    public init(password: [UInt8], vhid: UInt8, virtualAddress: IPv4Address, mode: AuthenticationMode = .ucarp) {
        // The same message as `virtualAddresses: [.ipv4(virtualAddress)]`, without sorting.
        self.init(
            password: password, messagePrefix: Self.messagePrefix(vhid: vhid, virtualAddress: virtualAddress),
            mode: mode)
    }

    /// The authenticator of a virtual host with several addresses, of either family, in any
    /// order (the message sorts them).
    public init(
        password: [UInt8], vhid: UInt8, virtualAddresses: [IPAddress], mode: AuthenticationMode = .ucarp
    ) {
        self.init(
            password: password, messagePrefix: Self.messagePrefix(vhid: vhid, virtualAddresses: virtualAddresses),
            mode: mode)
    }

    private init(password: [UInt8], messagePrefix: [UInt8], mode: AuthenticationMode) {
        var hmac = PreparedHMACSHA1(key: password)
        messagePrefix.withUnsafeBytes { hmac.update($0) }
        self.prepared = hmac
        self.strict = StrictAuthenticator(password: password, messagePrefix: messagePrefix)
        self.mode = mode
        // Version, type, vhid and one IPv4 address: nothing else is 7 bytes long.
        self.signsLikeUcarp = messagePrefix.count == 7
    }

    /// The fixed first 7 bytes of the signed message.
    static func messagePrefix(vhid: UInt8, virtualAddress: IPv4Address) -> [UInt8] {
        [CARPWire.version, CARPWire.typeAdvertisement, vhid] + virtualAddress.octets
    }

    /// The signed message without its counter, as the BSD `carp_hmac_prepare` builds it:
    /// version, type, vhid; the IPv4 addresses in ascending numeric order, 4 bytes each; the
    /// IPv6 addresses in ascending order of their bytes (`memcmp`), 16 bytes each, link-local
    /// ones left out (as OpenBSD sends; FreeBSD would hash them with the scope zeroed). Each
    /// address counts once, however often it is given.
    ///
    /// One IPv4 address gives ucarp's 7 bytes. The BSD loops also skip `0.0.0.0` and
    /// `255.255.255.255` (`::` and all-ones for IPv6), which are never virtual addresses; this
    /// does not, so that ucarp's digest stays exact for any single address.
    static func messagePrefix(vhid: UInt8, virtualAddresses: [IPAddress]) -> [UInt8] {
        let ipv4 = Set(virtualAddresses.compactMap(\.ipv4)).sorted { $0.value < $1.value }
        let ipv6 = Set(virtualAddresses.compactMap(\.ipv6).filter { !$0.isLinkLocal }).sorted()
        var message = [CARPWire.version, CARPWire.typeAdvertisement, vhid]
        message.reserveCapacity(3 + 4 * ipv4.count + 16 * ipv6.count)
        for address in ipv4 { message += address.octets }
        for address in ipv6 { message += address.octets }
        return message
    }

    /// The digest field of an advert with these fields, in our mode: ucarp's HMAC-SHA1 over
    /// the message for `counter` (the other fields unsigned), or the strict HMAC-SHA256 over
    /// all of them, truncated.
    public func digest(source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        switch mode {
        case .ucarp: digest(counter: counter)
        case .strict: strictDigest(source: source, advbase: advbase, advskew: advskew, counter: counter)
        }
    }

    /// Writes the digest field of an advert with these fields, in our mode, into the first
    /// ``CARPWire/digestLength`` bytes of `destination`.
    public func sign(
        source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64,
        into destination: UnsafeMutableRawBufferPointer
    ) {
        switch mode {
        case .ucarp:
            sign(counter: counter, into: destination)
        case .strict:
            precondition(destination.count >= CARPWire.digestLength)
            strict.code(source: source, advbase: advbase, advskew: advskew, counter: counter).withUnsafeBytes { code in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: code.prefix(CARPWire.digestLength)))
            }
        }
    }

    /// nil when `digest` is the one of an advert with these fields in our mode; else why the
    /// advert is dropped: a host of the other mode (its digest is valid there), or a bad digest.
    public func check(
        digest: some Collection<UInt8>, source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64
    ) -> AdvertisementError? {
        let strictValid = { () -> Bool in
            let code = strict.code(source: source, advbase: advbase, advskew: advskew, counter: counter)
            return code.withUnsafeBytes { Self.equalInConstantTime(digest, $0.prefix(CARPWire.digestLength)) }
        }
        switch mode {
        case .ucarp:
            if isValid(digest: digest, counter: counter) { return nil }
            if strictValid() { return .otherAuthMode(source: source, mode: .strict) }
            return badDigest(received: digest, counter: counter)
        case .strict:
            if strictValid() { return nil }
            if isValid(digest: digest, counter: counter) { return .otherAuthMode(source: source, mode: .ucarp) }
            let expected = strictDigest(source: source, advbase: advbase, advskew: advskew, counter: counter)
            return .badDigestOfStrictAdvert(
                expectedPrefix: Array(expected.prefix(4)), receivedPrefix: Array(digest.prefix(4)))
        }
    }

    /// The strict digest field: the first 20 bytes of ``StrictAuthenticator``'s HMAC-SHA256.
    func strictDigest(source: IPAddress, advbase: UInt8, advskew: UInt8, counter: UInt64) -> [UInt8] {
        Array(
            strict.code(source: source, advbase: advbase, advskew: advskew, counter: counter).prefix(
                CARPWire.digestLength))
    }

    /// Whether two byte sequences are equal, in a time that does not depend on where they differ.
    static func equalInConstantTime(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) {
            difference |= x ^ y
        }
        return difference == 0
    }

    /// HMAC-SHA1 over the message for `counter`.
    public func digest(counter: UInt64) -> [UInt8] {
        Array(authenticationCode(counter: counter))
    }

    /// Writes ucarp's digest for `counter` into the first ``CARPWire/digestLength`` bytes of
    /// `destination`, without an intermediate array.
    public func sign(counter: UInt64, into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= CARPWire.digestLength)
        authenticationCode(counter: counter).withUnsafeBytes { code in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: code.prefix(CARPWire.digestLength)))
        }
    }

    /// Whether `digest` is the one for `counter`, compared in constant time.
    public func isValid(digest: some Collection<UInt8>, counter: UInt64) -> Bool {
        authenticationCode(counter: counter).withUnsafeBytes { Self.equalInConstantTime($0, digest) }
    }

    /// The drop for an advert whose `received` digest is not the one for `counter`: ucarp's
    /// warning when the message is ucarp's, else one that says the address sets may differ.
    func badDigest(received: some Collection<UInt8>, counter: UInt64) -> AdvertisementError {
        let expectedPrefix = Array(digest(counter: counter).prefix(4))
        let receivedPrefix = Array(received.prefix(4))
        return signsLikeUcarp
            ? .badDigest(expectedPrefix: expectedPrefix, receivedPrefix: receivedPrefix)
            : .badDigestOfAddressSet(expectedPrefix: expectedPrefix, receivedPrefix: receivedPrefix)
    }

    private func authenticationCode(counter: UInt64) -> Insecure.SHA1Digest {
        withUnsafeBytes(of: counter.bigEndian) { prepared.code(appending: $0) }
    }
}
