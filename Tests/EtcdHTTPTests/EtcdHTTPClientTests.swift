import CARPCore
import Glibc
import Testing

@testable import EtcdHTTP

/// The client on loopback against a canned server: no etcd needed (EtcdLiveTests has etcd).
@Suite struct EtcdHTTPClientTests {
    private func request(
        _ id: UInt64, _ url: String, body: String = #"{"TTL":"3"}"#, authorization: String? = nil,
        timeout: MonotonicDuration = .seconds(2)
    ) -> EtcdHTTPClient.Request {
        .init(id: id, url: url, body: Array(body.utf8), authorization: authorization, timeout: timeout)
    }

    @Test func aPostIsAnsweredWithStatusAndBodyThroughTheLoopsOwnPoll() throws {
        let server = CannedHTTPServer()
        server.status = 404
        server.body = Array(#"{"error":"x","message":"x","code":5}"#.utf8)
        let client = try EtcdHTTPClient()
        try client.start(request(7, server.url, authorization: "YZHecRONpzJBnEKG.27"), at: PollLoop.now())
        #expect(client.inFlight == 1)
        let completions = PollLoop.run(client, server: server) { !$0.isEmpty }
        #expect(completions == [.init(id: 7, result: .success(.init(status: 404, body: server.body)))])
        #expect(client.inFlight == 0)
        let sent = try #require(server.requests.first)
        #expect(sent.hasPrefix("POST /v3/lease/grant HTTP/1.1\r\n"))
        #expect(sent.contains("\r\nContent-Type: application/json\r\n"))
        #expect(sent.contains("\r\nAuthorization: YZHecRONpzJBnEKG.27\r\n"))
        #expect(!sent.lowercased().contains("expect:"))
        #expect(sent.hasSuffix("\r\n\r\n" + #"{"TTL":"3"}"#))
    }

    @Test func anEmptyBodyIsSentAsAnEmptyPost() throws {
        let server = CannedHTTPServer()
        let client = try EtcdHTTPClient()
        try client.start(request(1, server.url, body: ""), at: PollLoop.now())
        let completions = PollLoop.run(client, server: server) { !$0.isEmpty }
        #expect((try? completions.first?.result.get().status) == 200)
        #expect(server.requests.first?.lowercased().contains("\r\ncontent-length: 0\r\n") == true)
    }

    @Test func severalRequestsShareTheLoopAndFinishIndependently() throws {
        let server = CannedHTTPServer()
        let client = try EtcdHTTPClient()
        for id in 1...3 { try client.start(request(UInt64(id), server.url), at: PollLoop.now()) }
        let completions = PollLoop.run(client, server: server) { $0.count == 3 }
        #expect(Set(completions.map(\.id)) == [1, 2, 3])
        #expect(completions.allSatisfy { (try? $0.result.get().status) == 200 })
    }

    @Test func aRefusedConnectionFailsWithLibcurlsMessage() throws {
        let port = CannedHTTPServer().port  // closed again when the server goes
        let client = try EtcdHTTPClient()
        try client.start(request(1, "http://127.0.0.1:\(port)/v3/lease/grant"), at: PollLoop.now())
        let completions = PollLoop.run(client) { !$0.isEmpty }
        guard case .failure(.transfer(let code, let message)) = completions.first?.result else {
            Issue.record("expected a transfer failure, got \(completions)")
            return
        }
        #expect(code == 7)  // CURLE_COULDNT_CONNECT
        #expect(message.contains("127.0.0.1"))
    }

    @Test func aServerThatNeverAnswersTimesOutAtTheRequestsOwnTimeout() throws {
        let server = CannedHTTPServer()
        server.answers = false
        let client = try EtcdHTTPClient()
        let start = PollLoop.now()
        try client.start(request(1, server.url, timeout: .milliseconds(200)), at: start)
        let completions = PollLoop.run(client, server: server) { !$0.isEmpty }
        let elapsed = PollLoop.now().duration(since: start)
        #expect(completions.count == 1)
        #expect((try? completions.first?.result.get()) == nil)
        if case .failure(let error) = completions.first?.result { #expect(error.isTimeout) }
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(2))
    }

    @Test func aCancelledRequestNeverCompletes() throws {
        let server = CannedHTTPServer()
        let client = try EtcdHTTPClient()
        try client.start(request(1, server.url), at: PollLoop.now())
        try client.start(request(2, server.url), at: PollLoop.now())
        client.cancel(id: 1)
        let completions = PollLoop.run(client, server: server, limit: 0.3) { $0.count == 2 }
        #expect(completions.map(\.id) == [2])
    }

    @Test func aBodyPastTheLimitIsRefused() throws {
        let server = CannedHTTPServer()
        server.body = [UInt8](repeating: UInt8(ascii: "x"), count: EtcdHTTPClient.maximumBodySize + 1)
        let client = try EtcdHTTPClient()
        try client.start(request(1, server.url), at: PollLoop.now())
        let completions = PollLoop.run(client, server: server) { !$0.isEmpty }
        #expect(completions.first?.result == .failure(.bodyTooLarge(EtcdHTTPClient.maximumBodySize)))
    }

    @Test func aSecondRequestWithTheSameIDIsRefused() throws {
        let server = CannedHTTPServer()
        let client = try EtcdHTTPClient()
        try client.start(request(1, server.url), at: PollLoop.now())
        #expect(throws: HTTPClientError.duplicateID(1)) { try client.start(request(1, server.url), at: PollLoop.now()) }
    }

    @Test func otherSchemesThanHTTPAreRefused() throws {
        let client = try EtcdHTTPClient()
        try client.start(request(1, "file:///etc/passwd"), at: PollLoop.now())
        let completions = PollLoop.run(client) { !$0.isEmpty }
        guard case .failure(.transfer(let code, _)) = completions.first?.result else {
            Issue.record("expected a transfer failure, got \(completions)")
            return
        }
        #expect(code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
    }
}
