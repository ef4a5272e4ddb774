import CARPCore

/// `--etcd` and its companions: the etcd lease guard that gates MASTER on holding a key. nil
/// in ``Settings/etcd`` without `--etcd`, and the instance is plain CARP.
public struct EtcdSettings: Equatable, Sendable {
    /// `--etcd-unreachable`: what a master does when etcd stops answering.
    public enum Unreachable: String, Equatable, Sendable, CaseIterable {
        /// Leave MASTER at the lease deadline (the default): at most one master, possibly none.
        case release
        /// Stay MASTER while CARP agrees: always a master, possibly two under a partition.
        case keep
    }

    /// `--etcd`: the client URLs, `http://` or `https://`, without a trailing slash.
    public var endpoints: [String]
    /// `--etcd-prefix`: the key is `PREFIX/VHID/ADDRESS`.
    public var prefix = EtcdSettings.defaultPrefix
    /// `--etcd-lock`: the whole key, instead of the one derived from the prefix.
    public var lock: String?
    /// `--etcd-ttl`: the lease's TTL in seconds.
    public var ttl = EtcdSettings.defaultTTL
    public var unreachable = Unreachable.release
    /// `--etcd-cacert`, `--etcd-cert`, `--etcd-key`: PEM files for TLS.
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    /// `--etcd-user`, and the first line of `--etcd-passfile`.
    public var user: String?
    public var passfile: String?
    public var password: String?

    public init(endpoints: [String]) {
        self.endpoints = endpoints
    }

    public static let defaultPrefix = "/swiftcarp"
    public static let defaultTTL: Int64 = 3
    /// etcd's minimum lease TTL with its default election timeout.
    public static let ttlRange: ClosedRange<UInt32> = 2...3600

    /// The key every host of the group uses: `--etcd-lock`, else `PREFIX/VHID/ADDRESS`, e.g.
    /// `/swiftcarp/7/192.0.2.100` (with several addresses, ``Settings/etcdKey`` says which).
    public func key(vhid: UInt8, address: String) -> String {
        if let lock { return lock }
        let prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        return "\(prefix)/\(vhid)/\(address)"
    }

    /// An endpoint as `--etcd` takes it: `http://HOST[:PORT]` or `https://...`, a host, no
    /// spaces; a trailing slash is dropped. nil if it is not such a URL.
    static func endpoint(_ text: String) -> String? {
        let lowered = text.asciiLowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        let rest = url.dropFirst(scheme.count)
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.hasPrefix(":"), !url.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" })
        else { return nil }
        return url
    }
}

extension EtcdSettings {
    /// `text` without the `user:password@` before its host, if it has one (nil otherwise).
    static func withoutCredentials(_ text: String) -> String? {
        let lowered = text.asciiLowercased()
        let scheme =
            ["http://", "https://"].first { lowered.hasPrefix($0) }.map { String(text.prefix($0.count)) } ?? ""
        let rest = text.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return scheme + String(rest[rest.index(after: at)...])
    }

    /// Whether a password would go to etcd unencrypted: `--etcd-user` and an `http://` endpoint.
    var sendsPasswordInClear: Bool {
        user != nil && endpoints.contains { $0.asciiLowercased().hasPrefix("http://") }
    }
}

extension Settings {
    /// The guard's key for this instance, nil without `--etcd`: named after the lowest IPv4
    /// virtual address (else the lowest IPv6 one), in its canonical spelling, so that hosts
    /// listing the same set in another order or spelling share one key, as they share the
    /// digest.
    public var etcdKey: String? {
        etcd?.key(vhid: vhid, address: keyAddress?.description ?? "")
    }

    /// The address the key is named after.
    var keyAddress: IPAddress? {
        if let lowest = virtualAddresses.compactMap(\.ipv4).min(by: { $0.value < $1.value }) { return .ipv4(lowest) }
        return virtualAddresses.compactMap(\.ipv6).min().map { .ipv6($0) }
    }
}

extension String {
    /// Without the spaces and tabs around it.
    func trimmingASCIISpaces() -> String {
        let isSpace = { (character: Character) in character == " " || character == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
