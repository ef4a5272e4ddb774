/// Why an HTTP request got no response: libcurl's code and message, or our own limit.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libcurl could not set the client or a request up (out of memory, an option refused).
    case setup(String)
    /// The transfer failed: `CURLcode` and libcurl's detailed message (connection refused,
    /// timeout, certificate problem, ...).
    case transfer(code: Int32, message: String)
    /// The response body passed ``EtcdHTTPClient/maximumBodySize``.
    case bodyTooLarge(Int)
    /// A request with this ID is already in flight.
    case duplicateID(UInt64)

    /// libcurl's `CURLE_OPERATION_TIMEDOUT`: the request's own timeout passed.
    public var isTimeout: Bool {
        if case .transfer(28, _) = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .setup(let message): "cannot set up the HTTP client: \(message)"
        case .transfer(_, let message): message
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        case .duplicateID(let id): "request \(id) is already in flight"
        }
    }
}
