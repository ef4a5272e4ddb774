/// One call of etcd v3's JSON gateway that the lease guard makes: what to ask, not how.
///
/// Keys and values are text (the key names the vhid and the address, the value the holder);
/// ``EtcdGatewayCodec`` turns a call into the gateway's path and JSON body.
public enum EtcdCall: Equatable, Sendable {
    /// `lease/grant`: a new lease of `ttl` seconds (etcd raises it to its minimum, 2 s by default).
    case grant(ttl: Int64)
    /// `kv/txn`: put `key` = `value` bound to `lease` if the key does not exist (its create
    /// revision is 0), else read it, so that a failure names the holder. Patroni's acquire.
    case acquire(key: String, value: String, lease: Int64)
    /// `lease/keepalive`: one renewal, one POST (the gateway's stream ends with the body).
    case keepAlive(lease: Int64)
    /// `lease/revoke`: the lease ends now and every key bound to it is deleted.
    case revoke(lease: Int64)
    /// `auth/authenticate`: a token for the `Authorization` header of the calls that follow.
    case authenticate(user: String, password: String)
    /// `kv/range`: who holds `key`, if anyone (a backup's look, ``EtcdLeaseGuard/lookUp(at:)``).
    case read(key: String)
    /// `lease/timetolive`: how long another host's `lease` has left, so that a backup blocked
    /// by the key tries again just after it ends (``EtcdLeaseGuard``'s wait).
    case timeToLive(lease: Int64)

    /// The path on the gateway, after the endpoint's URL (`/v3/`: etcd 3.4 and later).
    public var path: String {
        switch self {
        case .grant: "/v3/lease/grant"
        case .acquire: "/v3/kv/txn"
        case .keepAlive: "/v3/lease/keepalive"
        case .revoke: "/v3/lease/revoke"
        case .authenticate: "/v3/auth/authenticate"
        case .read: "/v3/kv/range"
        case .timeToLive: "/v3/lease/timetolive"
        }
    }

    /// The call's name in log lines.
    public var name: String {
        switch self {
        case .grant: "grant"
        case .acquire: "acquire"
        case .keepAlive: "keepalive"
        case .revoke: "revoke"
        case .authenticate: "authenticate"
        case .read: "read"
        case .timeToLive: "timetolive"
        }
    }
}
