/// Where the fields the codecs read and patch start in the headers around the CARP header,
/// each counted from its own header's first byte (the CARP header's are ``CARPHeader/Field``).
enum FrameLayout {
    /// The Ethernet header.
    enum Ethernet {
        /// Two bytes, most significant first.
        static let etherType = 12
    }

    /// The IPv4 header, without options.
    enum IPv4 {
        /// Version in the high four bits, header length in 32-bit words in the low four.
        static let versionAndHeaderLength = 0
        /// Two bytes, most significant first, as every multi-byte field below.
        static let totalLength = 2
        static let identification = 4
        static let ttl = 8
        static let `protocol` = 9
        static let checksum = 10
        static let source = 12
        static let destination = 16
    }

    /// The fixed IPv6 header.
    enum IPv6 {
        /// Version in the high four bits.
        static let version = 0
        static let payloadLength = 4
        static let nextHeader = 6
        static let hopLimit = 7
        static let source = 8
        static let destination = 24
    }
}
