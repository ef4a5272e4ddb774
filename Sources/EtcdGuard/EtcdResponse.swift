/// What etcd answered to an ``EtcdCall``, once the gateway's body is decoded.
public enum EtcdResponse: Equatable, Sendable {
    /// `lease/grant`: the lease and the TTL etcd gave it (which may exceed the one asked for).
    case granted(lease: Int64, ttl: Int64)
    /// `kv/txn`: the key was absent and is now ours, bound to our lease.
    case acquired
    /// `kv/txn`: the key exists; its holder, or nil when it vanished between the compare and
    /// the read (the failure branch found nothing).
    case held(by: EtcdKeyHolder?)
    /// `lease/keepalive`: the lease lives, renewed for `ttl` seconds from etcd's point of view.
    case renewed(ttl: Int64)
    /// `lease/keepalive` answered without a TTL: the lease has expired or was revoked.
    case leaseGone
    /// `lease/revoke` succeeded.
    case revoked
    /// `lease/timetolive`: the lease's remaining TTL in whole seconds, rounded towards zero, as
    /// etcd's leader sees it: it ends within `seconds` + 1 s of the answer; 0 when less than a
    /// second is left (or it ended less than a second ago, not yet revoked); -1 when it is gone.
    case timeToLive(seconds: Int64)
    /// `auth/authenticate`: the token to send as `Authorization`.
    case authenticated(token: String)
}

/// The host that holds the key: its value (source address and host name) and its lease.
public struct EtcdKeyHolder: Equatable, Sendable {
    public var value: String
    public var lease: Int64

    public init(value: String, lease: Int64) {
        self.value = value
        self.lease = lease
    }
}
