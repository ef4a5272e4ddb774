import FoundationEssentials

/// The JSON bodies of etcd v3's gRPC gateway: ``EtcdCall`` to bytes, bytes to ``EtcdResponse``.
///
/// The gateway's conventions (checked against etcd 3.4.23, see the captured answers in the
/// tests): keys and values are standard base64 with padding; int64 fields (lease IDs, TTLs,
/// revisions) travel as JSON strings; fields holding their zero value are left out, so a failed
/// transaction has no `succeeded` and a keepalive on a dead lease has no `TTL`; errors are
/// `{"error", "message", "code"}` with the gRPC code. Built on FoundationEssentials' JSON coders
/// and base64, which the daemon already links through swift-crypto; no Foundation.
public enum EtcdGatewayCodec {
    /// The request body of `call`.
    public static func body(of call: EtcdCall) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data?
        switch call {
        case .grant(let ttl):
            data = try? encoder.encode(LeaseRequest(TTL: String(ttl)))
        case .keepAlive(let lease), .revoke(let lease), .timeToLive(let lease):
            data = try? encoder.encode(LeaseRequest(ID: String(lease)))
        case .acquire(let key, let value, let lease):
            let key = base64(key)
            let transaction = Transaction(
                compare: [.init(target: "CREATE", key: key, create_revision: "0")],
                success: [.init(request_put: .init(key: key, value: base64(value), lease: String(lease)))],
                failure: [.init(request_range: .init(key: key))])
            data = try? encoder.encode(transaction)
        case .authenticate(let user, let password):
            data = try? encoder.encode(Authenticate(name: user, password: password))
        case .read(let key):
            data = try? encoder.encode(Transaction.Range(key: base64(key)))
        }
        // Encoding strings and arrays of plain structs cannot fail.
        guard let data else { preconditionFailure("JSONEncoder failed on a request body") }
        return Array(data)
    }

    /// The answer to `call` from the HTTP status and body etcd sent.
    public static func decode(_ call: EtcdCall, status: Int, body: [UInt8]) throws(EtcdGatewayError)
        -> EtcdResponse
    {
        // Streaming calls (keepalive) answer one object per line; one POST gives one line.
        let json = firstLine(of: body)
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(json)),
                let code = error.code, let message = error.message ?? error.error
            {
                throw .server(status: status, code: code, message: message)
            }
            throw .malformed(status: status, reason: "no etcd error body: \(excerpt(json))")
        }
        switch call {
        case .grant:
            let answer = try decode(LeaseAnswer.self, json, status)
            guard let lease = answer.ID?.value, let ttl = answer.TTL?.value else {
                throw .malformed(status: status, reason: "a grant without ID or TTL")
            }
            return .granted(lease: lease, ttl: ttl)
        case .acquire:
            let answer = try decode(TransactionAnswer.self, json, status)
            if answer.succeeded == true { return .acquired }
            return .held(by: try holder(answer.responses?.first?.response_range?.kvs?.first, status))
        case .read:
            // An absent key: no `kvs` at all.
            let answer = try decode(TransactionAnswer.Range.self, json, status)
            return .held(by: try holder(answer.kvs?.first, status))
        case .keepAlive:
            let answer = try decode(KeepAliveAnswer.self, json, status)
            guard let result = answer.result else { throw .malformed(status: status, reason: "no result") }
            guard let ttl = result.TTL?.value, ttl > 0 else { return .leaseGone }
            return .renewed(ttl: ttl)
        case .timeToLive:
            // 0 is left out: less than a second left. -1: gone (revoked, or never granted).
            let answer = try decode(LeaseAnswer.self, json, status)
            return .timeToLive(seconds: max(answer.TTL?.value ?? 0, -1))
        case .revoke:
            _ = try decode(HeaderOnly.self, json, status)
            return .revoked
        case .authenticate:
            let answer = try decode(AuthenticateAnswer.self, json, status)
            guard let token = answer.token, !token.isEmpty else { throw .malformed(status: status, reason: "no token") }
            return .authenticated(token: token)
        }
    }

    /// The holder a range names, nil if it found no key.
    private static func holder(_ kv: TransactionAnswer.KeyValue?, _ status: Int) throws(EtcdGatewayError)
        -> EtcdKeyHolder?
    {
        guard let kv else { return nil }
        // An empty value is left out.
        guard let value = kv.value.map(unbase64) ?? [], let text = String(validating: value, as: UTF8.self) else {
            throw .malformed(status: status, reason: "the holder's value is not base64 UTF-8 text")
        }
        // A key bound to no lease (put by hand) has no `lease`: lease 0.
        return EtcdKeyHolder(value: text, lease: kv.lease?.value ?? 0)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ json: [UInt8], _ status: Int)
        throws(EtcdGatewayError) -> T
    {
        do {
            return try JSONDecoder().decode(type, from: Data(json))
        } catch {
            throw .malformed(status: status, reason: "\(error): \(excerpt(json))")
        }
    }

    private static func firstLine(of body: [UInt8]) -> [UInt8] {
        let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        return lines.first.map(Array.init) ?? []
    }

    private static func excerpt(_ json: [UInt8]) -> String {
        let text = String(decoding: json.prefix(80), as: UTF8.self)
        return json.count > 80 ? text + "..." : text
    }

    private static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// nil when `text` is not base64; the caller says which field.
    private static func unbase64(_ text: String) -> [UInt8]? { Data(base64Encoded: text).map(Array.init) }
}

// The gateway's field names, spelled as etcd does (proto names).
// swift-format-ignore: AlwaysUseLowerCamelCase
private struct LeaseRequest: Encodable {
    var TTL: String?
    var ID: String?
}

// swift-format-ignore: AlwaysUseLowerCamelCase
private struct Transaction: Encodable {
    struct Compare: Encodable {
        var target: String
        var key: String
        var create_revision: String
    }
    struct Put: Encodable {
        var key: String
        var value: String
        var lease: String
    }
    struct Range: Encodable { var key: String }
    struct Success: Encodable { var request_put: Put }
    struct Failure: Encodable { var request_range: Range }
    var compare: [Compare]
    var success: [Success]
    var failure: [Failure]
}

private struct Authenticate: Encodable {
    var name: String
    var password: String
}

/// An int64 as the gateway writes it: a JSON string of digits (a number is accepted too).
private struct GatewayInt64: Decodable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if let parsed = Int64(try container.decode(String.self)) {
            value = parsed
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an int64")
        }
    }
}

private struct ErrorBody: Decodable {
    var error: String?
    var message: String?
    var code: Int?
}

private struct HeaderOnly: Decodable {
    struct Header: Decodable { var revision: GatewayInt64? }
    var header: Header?
}

// swift-format-ignore: AlwaysUseLowerCamelCase
private struct LeaseAnswer: Decodable {
    var ID: GatewayInt64?
    var TTL: GatewayInt64?
}

private struct KeepAliveAnswer: Decodable {
    var result: LeaseAnswer?
}

// swift-format-ignore: AlwaysUseLowerCamelCase
private struct TransactionAnswer: Decodable {
    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var lease: GatewayInt64?
    }
    struct Range: Decodable { var kvs: [KeyValue]? }
    struct Response: Decodable { var response_range: Range? }
    var succeeded: Bool?
    var responses: [Response]?
}

private struct AuthenticateAnswer: Decodable {
    var token: String?
}
