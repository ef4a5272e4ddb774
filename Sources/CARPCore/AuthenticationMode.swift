/// How advertisements are signed and their counters checked (`--auth`, `AUTH=`).
public enum AuthenticationMode: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// ucarp 1.5.2's wire, the default: HMAC-SHA1 over version, type, vhid, the addresses and
    /// the counter; any counter is valid (``ReplayFilter`` drops what it can without a wire change).
    case ucarp
    /// For when every peer is SwiftCARP: a truncated HMAC-SHA256 over the whole advertisement
    /// and its IP source (``StrictAuthenticator``), and a counter that only grows
    /// (``StrictReplayWindow``). A ucarp peer, or a SwiftCARP one in the other mode, is dropped.
    case strict

    public var description: String { rawValue }
}
