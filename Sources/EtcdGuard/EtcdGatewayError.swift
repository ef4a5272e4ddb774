/// A gateway answer that is not the success the call expects.
public enum EtcdGatewayError: Error, Equatable, Sendable, CustomStringConvertible {
    /// etcd's error body, `{"error", "message", "code"}`: the gRPC status code and message,
    /// with the HTTP status (a dead lease: 404 and code 5; a bad token: 401 and code 16).
    case server(status: Int, code: Int, message: String)
    /// A body that is neither the answer to the call nor an error body (a proxy's page, a
    /// truncated stream, a field that is not base64 or an integer).
    case malformed(status: Int, reason: String)

    /// gRPC `NOT_FOUND` for a lease: the lease expired or was revoked.
    public var isLeaseNotFound: Bool {
        if case .server(_, 5, let message) = self { message.contains("lease not found") } else { false }
    }

    /// gRPC `UNAUTHENTICATED`: the token expired or etcd restarted; authenticate again.
    public var isInvalidToken: Bool {
        if case .server(_, 16, _) = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .server(let status, let code, let message): "\(message) (HTTP \(status), code \(code))"
        case .malformed(let status, let reason): "unexpected answer (HTTP \(status)): \(reason)"
        }
    }
}
