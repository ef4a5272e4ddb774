/// Bodies of etcd 3.4.23's JSON gateway (Debian bookworm's `etcd-server`), captured with curl on
/// loopback: a single member, key `/swiftcarp/7/192.0.2.100` (`L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw`),
/// value `192.0.2.1 hostA` (`MTkyLjAuMi4xIGhvc3RB`). Each comes with the HTTP status it had.
enum CapturedEtcdAnswers {
    /// `POST /v3/lease/grant {"TTL":3}`.
    static let grant = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"1","raft_term":"2"},"ID":"8061340188859377669","TTL":"3"}"#
    )
    /// `lease/grant {"TTL":3}` from another host: the contender's lease.
    static let grantOther = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"2","raft_term":"2"},"ID":"8061340188859377672","TTL":"3"}"#
    )
    /// `lease/grant {"TTL":1}`: etcd raises a TTL below its minimum (2 s with default timings).
    static let grantRaisedToMinimum = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"5","raft_term":"2"},"ID":"8061340188859377705","TTL":"2"}"#
    )
    /// `kv/txn`: create the key only if absent, bound to the lease; it was absent.
    static let txnSucceeded = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"2","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]}"#
    )
    /// The same transaction from another host: no `succeeded` field, the failure branch's range
    /// names the holder and its lease.
    static let txnFailedHeld = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"2","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw","create_revision":"2","mod_revision":"2","version":"1","value":"MTkyLjAuMi4xIGhvc3RB","lease":"8061340188859377669"}],"count":"1"}}]}"#
    )
    /// A transaction bound to a lease that has expired.
    static let txnOnDeadLease = (
        404,
        #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#
    )
    /// `lease/keepalive` on a living lease (one JSON object per line: a stream).
    static let keepAliveAlive = (
        200,
        #"{"result":{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"2","raft_term":"2"},"ID":"8061340188859377669","TTL":"3"}}"#
            + "\n"
    )
    /// `lease/keepalive` after the lease expired (TTL 2, 3.5 s without renewal): no `TTL`.
    static let keepAliveExpired = (
        200,
        #"{"result":{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"3","raft_term":"2"},"ID":"8061340188859377680"}}"#
            + "\n"
    )
    /// `lease/revoke` of a living lease: a header alone.
    static let revoked = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"3","raft_term":"2"}}"#
    )
    /// `lease/revoke` of a lease already revoked or expired.
    static let revokeUnknownLease = (
        404,
        #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#
    )
    /// `kv/put` bound to a revoked lease.
    static let putOnDeadLease = (
        404,
        #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#
    )
    /// `kv/txn` with a key that is not base64.
    static let badBase64 = (
        400,
        #"{"error":"illegal base64 data at input byte 3","message":"illegal base64 data at input byte 3","code":3}"#
    )
    /// `auth/authenticate` with the right password.
    static let authenticated = (
        200,
        #"{"header":{"cluster_id":"6938779467356893328","member_id":"1141585828028608479","revision":"5","raft_term":"2"},"token":"YZHecRONpzJBnEKG.27"}"#
    )
    /// `auth/authenticate` with a wrong password.
    static let authenticationFailed = (
        400,
        #"{"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3}"#
    )
    /// Any call with an `Authorization` header etcd does not know (or no longer: tokens expire).
    static let invalidToken = (
        401,
        #"{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}"#
    )
    /// A call without a token once authentication is enabled.
    static let userNameEmpty = (
        400,
        #"{"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":3}"#
    )
    /// A put outside the user's role.
    static let permissionDenied = (
        403,
        #"{"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7}"#
    )
    /// A path the gateway does not serve: plain text.
    static let notFoundPath = (404, "Not Found")
    /// `kv/range {"key": K}` on a key that does not exist: a header alone (etcd 3.4.23, another
    /// run: other cluster and member IDs).
    static let rangeAbsent = (
        200,
        #"{"header":{"cluster_id":"16852641557184054374","member_id":"9009370488483034218","revision":"1","raft_term":"2"}}"#
    )
    /// `kv/range {"key": K}` once K is put with the value and a lease.
    static let rangeHeld = (
        200,
        #"{"header":{"cluster_id":"16852641557184054374","member_id":"9009370488483034218","revision":"2","raft_term":"2"},"kvs":[{"key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw","create_revision":"2","mod_revision":"2","version":"1","value":"MTkyLjAuMi4xIGhvc3RB","lease":"3777009571123792645"}],"count":"1"}"#
    )
    /// `lease/timetolive` of a living lease granted for 2 s, 0.5 s later: the seconds left,
    /// rounded down (captured on 7 December 2026, etcd 3.4.23, a single member).
    static let timeToLiveOneSecond = (
        200,
        #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"ID":"4111120495059692805","TTL":"1","grantedTTL":"2"}"#
    )
    /// The same 1.5 s later: less than a second left, so `TTL` (0) is left out.
    static let timeToLiveUnderASecond = (
        200,
        #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"ID":"4111120495059692805","grantedTTL":"2"}"#
    )
    /// The same once etcd revoked it (and for a lease it never granted): HTTP 200, `TTL` -1.
    static let timeToLiveGone = (
        200,
        #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"ID":"4111120495059692805","TTL":"-1"}"#
    )
}
