import CARPCore

/// Who holds the key, as every guarded host writes it under the key: its source address and,
/// when it has one, its host name, separated by a space (`192.0.2.11 alpha`).
///
/// A backup that hears a master reads the holder back to tell whether that master holds the
/// key: one type formats the value and parses it, so the two cannot drift apart.
public struct EtcdHolder: Equatable, Sendable {
    /// The holder's `--srcip`: what its advertisements come from.
    public var sourceAddress: IPAddress
    /// Its host name; empty when it has none.
    public var hostName: String

    public init(sourceAddress: IPAddress, hostName: String) {
        self.sourceAddress = sourceAddress
        self.hostName = hostName
    }

    /// The value stored under the key.
    public var value: String {
        hostName.isEmpty ? sourceAddress.description : "\(sourceAddress) \(hostName)"
    }

    /// A value read back from etcd; nil when it does not start with an address (another
    /// program's value, or none of ours).
    public init?(value: String) {
        let words = value.split(separator: " ", maxSplits: 1)
        guard let first = words.first, let address = try? IPAddress(parsing: first) else { return nil }
        sourceAddress = address
        hostName = words.count > 1 ? String(words[1]) : ""
    }
}

extension EtcdKeyHolder {
    /// The holder the value names, if it is one of ours.
    public var holder: EtcdHolder? { EtcdHolder(value: value) }
}
