import CCurl

/// One request in flight: its easy handle and what libcurl writes for it (header list, error
/// buffer, body), which must stay where they are until the transfer ends.
final class HTTPTransfer {
    let id: UInt64
    let handle: UnsafeMutableRawPointer
    var headers: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    var body: [UInt8] = []
    /// The body passed the limit; the write callback refused the rest.
    var overflowed = false
    let limit: Int

    init(id: UInt64, handle: UnsafeMutableRawPointer, limit: Int) {
        self.id = id
        self.handle = handle
        self.limit = limit
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// libcurl's detailed message for a failed transfer, else the code's generic one.
    func message(for code: CURLcode) -> String {
        let detailed = String(cString: errorBuffer)
        if !detailed.isEmpty { return detailed }
        return swiftcarp_curl_easy_strerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }

    /// Appends what the write callback got; false (abort) past the limit.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    deinit {
        swiftcarp_curl_easy_cleanup(handle)
        swiftcarp_curl_slist_free_all(headers)
        errorBuffer.deallocate()
    }
}
