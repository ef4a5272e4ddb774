import CARPCore
import CCurl
import Glibc

/// Non-blocking HTTP POSTs for the daemon's single poll loop: libcurl's multi interface, driven
/// by the loop's own `poll(2)`.
///
/// Why libcurl: the guard must speak TLS with client certificates to real etcd deployments,
/// and TLS needs a library whatever carries the HTTP. libcurl (Debian's `libcurl4`, OpenSSL
/// flavour) brings the TLS handshake, certificate checks, connection reuse (one TCP and TLS
/// session kept alive across renewals), chunked bodies (the gateway's keepalive stream),
/// timeouts and name resolution off the loop (its threaded resolver), all of it long tested.
/// Our own HTTP/1.1 over a non-blocking socket would be small for plain HTTP, but would still
/// need OpenSSL's non-blocking handshake state machine wired by hand for TLS: more code of ours
/// on the one path that must not fail. The cost is the dependency (`libcurl4` and what it pulls
/// in: some 30 more shared libraries and a few MB of memory), paid only with `--etcd`: CCurl
/// loads libcurl with `dlopen` when the first client is made, so that an instance without the
/// guard never maps it.
///
/// How it fits the loop (libcurl 7.88 in Debian bookworm has no `curl_multi_waitfds`, which came
/// in 8.8; `curl_multi_poll` would block in libcurl's own poll): the socket API. libcurl says
/// through callbacks which descriptors to watch for what (``descriptors``) and when it needs
/// time (``nextDeadline``); the loop adds both to its `poll`, then calls
/// ``socketReady(_:events:at:)`` for each ready descriptor and ``deadlinePassed(at:)`` on time.
/// Each returns the transfers that finished. libcurl never blocks: every request has its own
/// timeout (`CURLOPT_TIMEOUT_MS`), and `CURLOPT_NOSIGNAL` keeps it away from signals.
/// Proxies from the environment are ignored (`CURLOPT_PROXY ""`), only `http` and `https` are
/// allowed, and HTTP/1.1 is used, as etcd's gateway and Patroni do.
///
/// One thread only, like the loop. Not `Sendable`.
public final class EtcdHTTPClient {
    /// `--etcd-cacert`, `--etcd-cert`, `--etcd-key`: PEM files, checked by libcurl at connect.
    public struct TLS: Equatable, Sendable {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public struct Request: Equatable, Sendable {
        /// The caller's identifier, handed back with the completion.
        public var id: UInt64
        public var url: String
        public var body: [UInt8]
        /// The `Authorization` header (etcd's token), if any.
        public var authorization: String?
        public var timeout: MonotonicDuration
        /// TLS files for this request instead of the client's (a reload's etcd move reaches the
        /// new endpoints with the new settings' files).
        public var tls: TLS?

        public init(
            id: UInt64, url: String, body: [UInt8], authorization: String? = nil, timeout: MonotonicDuration,
            tls: TLS? = nil
        ) {
            self.id = id
            self.url = url
            self.body = body
            self.authorization = authorization
            self.timeout = timeout
            self.tls = tls
        }
    }

    public struct Response: Equatable, Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    public struct Completion: Equatable, Sendable {
        public var id: UInt64
        public var result: Result<Response, HTTPClientError>
    }

    /// A descriptor libcurl wants polled, with `poll(2)` events (`POLLIN`, `POLLOUT`).
    public struct Interest: Equatable, Sendable {
        public var descriptor: Int32
        public var events: Int16
    }

    /// Answers larger than this are refused (etcd's are a few hundred bytes).
    public static let maximumBodySize = 64 * 1024

    /// libcurl loaded (`dlopen`) and `curl_global_init` done, once: nil, or why not.
    private static let libraryProblem: String? = {
        var message = [CChar](repeating: 0, count: 512)
        guard swiftcarp_curl_load(&message, message.count) == 0 else {
            return String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return swiftcarp_curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK ? nil : "curl_global_init failed"
    }()

    /// Loads libcurl (`libcurl.so.4`, Debian's `libcurl4`) if it is not yet: the daemon asks
    /// at start-up, so that a missing library is one clear line before anything runs.
    public static func loadLibrary() throws(HTTPClientError) {
        if let libraryProblem { throw .setup(libraryProblem) }
    }

    private let multi: UnsafeMutableRawPointer
    private let tls: TLS?
    private var transfers: [UInt64: HTTPTransfer] = [:]
    /// Easy handle address to request ID.
    private var idsByHandle: [UnsafeMutableRawPointer: UInt64] = [:]
    private var interests: [Int32: Int16] = [:]
    /// The instant of the call into libcurl under way, for the timer callback.
    private var now = MonotonicInstant(nanoseconds: 0)
    /// Finished transfers collected during a call into libcurl.
    private var finished: [Completion] = []

    /// When libcurl next needs ``deadlinePassed(at:)``; nil when it waits for nothing.
    public private(set) var nextDeadline: MonotonicInstant?

    /// libcurl loaded and `curl_global_init` (once), then `curl_multi_init`.
    public init(tls: TLS? = nil) throws(HTTPClientError) {
        try Self.loadLibrary()
        guard let multi = swiftcarp_curl_multi_init() else { throw .setup("curl_multi_init failed") }
        self.multi = multi
        self.tls = tls
        let client = Unmanaged.passUnretained(self).toOpaque()
        let results = [
            swiftcarp_curl_multi_setopt_socket_callback(multi, socketCallback),
            swiftcarp_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, client),
            swiftcarp_curl_multi_setopt_timer_callback(multi, timerCallback),
            swiftcarp_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, client),
        ]
        if let failure = results.first(where: { $0 != CURLM_OK }) {
            swiftcarp_curl_multi_cleanup(multi)
            throw .setup(String(cString: swiftcarp_curl_multi_strerror(failure)))
        }
    }

    deinit {
        for transfer in transfers.values { swiftcarp_curl_multi_remove_handle(multi, transfer.handle) }
        transfers.removeAll()
        swiftcarp_curl_multi_cleanup(multi)
    }

    /// The descriptors to poll, in descriptor order.
    public var descriptors: [Interest] {
        interests.sorted { $0.key < $1.key }.map { Interest(descriptor: $0.key, events: $0.value) }
    }

    /// Requests in flight.
    public var inFlight: Int { transfers.count }

    /// Starts a POST (`curl_easy_init`, options, `curl_multi_add_handle`); nothing blocks.
    public func start(_ request: Request, at now: MonotonicInstant) throws(HTTPClientError) {
        guard transfers[request.id] == nil else { throw .duplicateID(request.id) }
        guard let handle = swiftcarp_curl_easy_init() else { throw .setup("curl_easy_init failed") }
        let transfer = HTTPTransfer(id: request.id, handle: handle, limit: Self.maximumBodySize)
        try configure(transfer, for: request)
        self.now = now
        let added = swiftcarp_curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else { throw .setup(String(cString: swiftcarp_curl_multi_strerror(added))) }
        transfers[request.id] = transfer
        idsByHandle[handle] = request.id
    }

    /// Drops a request; its completion never comes.
    public func cancel(id: UInt64) {
        guard let transfer = transfers.removeValue(forKey: id) else { return }
        idsByHandle[transfer.handle] = nil
        swiftcarp_curl_multi_remove_handle(multi, transfer.handle)
    }

    /// `curl_multi_socket_action` for a descriptor `poll` found ready (`revents`).
    public func socketReady(_ descriptor: Int32, events: Int16, at now: MonotonicInstant) -> [Completion] {
        var mask: Int32 = 0
        if events & Int16(POLLIN | POLLHUP) != 0 { mask |= CURL_CSELECT_IN }
        if events & Int16(POLLOUT) != 0 { mask |= CURL_CSELECT_OUT }
        if events & Int16(POLLERR | POLLNVAL) != 0 { mask |= CURL_CSELECT_ERR }
        return act(on: descriptor, mask: mask, at: now)
    }

    /// `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)` once ``nextDeadline`` has passed.
    public func deadlinePassed(at now: MonotonicInstant) -> [Completion] {
        guard let deadline = nextDeadline, now >= deadline else { return [] }
        nextDeadline = nil
        return act(on: CURL_SOCKET_TIMEOUT, mask: 0, at: now)
    }

    private func act(on descriptor: Int32, mask: Int32, at now: MonotonicInstant) -> [Completion] {
        self.now = now
        var running: Int32 = 0
        _ = swiftcarp_curl_multi_socket_action(multi, descriptor, mask, &running)
        collectFinished()
        defer { finished = [] }
        return finished
    }

    /// `curl_multi_info_read` until empty: each done transfer becomes a completion.
    private func collectFinished() {
        var queued: Int32 = 0
        while let message = swiftcarp_curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let id = idsByHandle.removeValue(forKey: handle), let transfer = transfers.removeValue(forKey: id)
            else { continue }
            let code = swiftcarp_curl_msg_result(message)
            swiftcarp_curl_multi_remove_handle(multi, handle)
            finished.append(Completion(id: id, result: outcome(of: transfer, code)))
        }
    }

    private func outcome(of transfer: HTTPTransfer, _ code: CURLcode) -> Result<Response, HTTPClientError> {
        if transfer.overflowed { return .failure(.bodyTooLarge(transfer.limit)) }
        guard code == CURLE_OK else {
            return .failure(.transfer(code: Int32(code.rawValue), message: transfer.message(for: code)))
        }
        var status = 0
        _ = swiftcarp_curl_easy_getinfo_long(transfer.handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(Response(status: status, body: transfer.body))
    }

    private func configure(_ transfer: HTTPTransfer, for request: Request) throws(HTTPClientError) {
        let handle = transfer.handle
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for header in ["Content-Type: application/json", "Expect:"]
            + (request.authorization.map { ["Authorization: \($0)"] } ?? [])
        {
            guard let appended = swiftcarp_curl_slist_append(headers, header) else {
                swiftcarp_curl_slist_free_all(headers)
                throw .setup("curl_slist_append failed")
            }
            headers = appended
        }
        transfer.headers = headers
        let timeout = Int(clamping: request.timeout.millisecondsRoundedUp)
        var results: [CURLcode] = [
            swiftcarp_curl_easy_setopt_string(handle, CURLOPT_URL, request.url),
            swiftcarp_curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            swiftcarp_curl_easy_setopt_string(handle, CURLOPT_PROXY, ""),
            swiftcarp_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)),
            swiftcarp_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            // A transfer given up in the middle of a name lookup must not wait for the
            // resolver thread: that would stop the poll loop, and the adverts, for seconds.
            swiftcarp_curl_easy_setopt_long(handle, CURLOPT_QUICK_EXIT, 1),
            swiftcarp_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(timeout, 1)),
            swiftcarp_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer),
            swiftcarp_curl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers),
            swiftcarp_curl_easy_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count),
            // libcurl copies the body; a null pointer would make it read the body from stdin.
            request.body.isEmpty
                ? swiftcarp_curl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                : request.body.withUnsafeBytes {
                    swiftcarp_curl_easy_setopt_pointer(
                        handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                },
            swiftcarp_curl_easy_setopt_write_callback(handle, writeCallback),
            swiftcarp_curl_easy_setopt_pointer(
                handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(transfer).toOpaque()),
        ]
        if let tls = request.tls ?? tls {
            if let file = tls.caFile { results.append(swiftcarp_curl_easy_setopt_string(handle, CURLOPT_CAINFO, file)) }
            if let file = tls.certificateFile {
                results.append(swiftcarp_curl_easy_setopt_string(handle, CURLOPT_SSLCERT, file))
            }
            if let file = tls.keyFile {
                results.append(swiftcarp_curl_easy_setopt_string(handle, CURLOPT_SSLKEY, file))
            }
        }
        if let failure = results.first(where: { $0 != CURLE_OK }) {
            throw .setup(swiftcarp_curl_easy_strerror(failure).map { String(cString: $0) } ?? "curl_easy_setopt failed")
        }
    }

    /// From the socket callback: watch `descriptor` for `what` (`CURL_POLL_*`), or no longer.
    fileprivate func watch(_ descriptor: Int32, _ what: Int32) {
        switch what {
        case CURL_POLL_IN: interests[descriptor] = Int16(POLLIN)
        case CURL_POLL_OUT: interests[descriptor] = Int16(POLLOUT)
        case CURL_POLL_INOUT: interests[descriptor] = Int16(POLLIN | POLLOUT)
        default: interests[descriptor] = nil
        }
    }

    /// From the timer callback: libcurl wants time in `milliseconds` (-1: never).
    fileprivate func arm(_ milliseconds: Int) {
        nextDeadline = milliseconds < 0 ? nil : now + .milliseconds(UInt64(milliseconds))
    }
}

private func socketCallback(
    _ easy: UnsafeMutableRawPointer?, _ descriptor: curl_socket_t, _ what: Int32, _ client: UnsafeMutableRawPointer?,
    _ socket: UnsafeMutableRawPointer?
) -> Int32 {
    guard let client else { return -1 }
    Unmanaged<EtcdHTTPClient>.fromOpaque(client).takeUnretainedValue().watch(descriptor, what)
    return 0
}

private func timerCallback(_ multi: UnsafeMutableRawPointer?, _ milliseconds: Int, _ client: UnsafeMutableRawPointer?)
    -> Int32
{
    guard let client else { return -1 }
    Unmanaged<EtcdHTTPClient>.fromOpaque(client).takeUnretainedValue().arm(milliseconds)
    return 0
}

private func writeCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ transfer: UnsafeMutableRawPointer?
) -> Int {
    guard let transfer else { return 0 }
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : length)
    return Unmanaged<HTTPTransfer>.fromOpaque(transfer).takeUnretainedValue().append(bytes) ? length : 0
}
