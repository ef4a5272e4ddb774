import CARPCore
import EtcdGuard
import Glibc
import Testing

@testable import EtcdHTTP

private func isGrant(_ action: EtcdLeaseGuard.Action) -> Bool {
    if case .grantMastership = action { true } else { false }
}

private func isRevoke(_ action: EtcdLeaseGuard.Action) -> Bool {
    if case .revokeMastership = action { true } else { false }
}

private func isKeepAlive(_ action: EtcdLeaseGuard.Action) -> Bool {
    if case .send(let request) = action, case .keepAlive = request.call { true } else { false }
}

/// The HTTP client and the lease guard against a real etcd (Debian's 3.4) on loopback.
/// `make etcd-test` runs them; elsewhere they are skipped, and say why.
@Suite(
    .serialized,
    .enabled(if: EtcdServer.requested, "needs etcd: SWIFTCARP_ETCD_TESTS=1 (make etcd-test)"),
    .enabled(if: EtcdServer.present, "no \(EtcdServer.binary): apt-get install etcd-server")
)
struct EtcdLiveTests {
    /// Waits until etcd answers a grant (it takes about a second to elect itself).
    private func waitUntilServing(_ url: String, tls: EtcdHTTPClient.TLS? = nil) throws {
        let client = try EtcdHTTPClient(tls: tls)
        for attempt in 0..<50 {
            try client.start(
                .init(
                    id: UInt64(attempt), url: url + "/v3/lease/grant", body: Array(#"{"TTL":"2"}"#.utf8),
                    timeout: .milliseconds(500)), at: PollLoop.now())
            let done = PollLoop.run(client, limit: 1) { !$0.isEmpty }
            if case .success(let response) = done.first?.result, response.status == 200 { return }
            usleep(100_000)
        }
        throw LiveTestError("etcd at \(url) does not answer")
    }

    /// An etcd, host A master on it, host B not yet contending: TTL 2 s.
    private func masterAndContender() throws -> (EtcdServer, GuardRunner, GuardRunner) {
        let etcd = try EtcdServer()
        try waitUntilServing(etcd.clientURL)
        let hostA = try GuardRunner(value: "192.0.2.1 hostA", ttl: 2, endpoints: [etcd.clientURL])
        let hostB = try GuardRunner(value: "192.0.2.2 hostB", ttl: 2, endpoints: [etcd.clientURL])
        hostA.want()
        LiveLoop.run([hostA, hostB], seconds: 3) { hostA.guardian.isMaster }
        return (etcd, hostA, hostB)
    }

    @Test func aGuardTakesKeepsAndHandsTheKeyOverOnARealEtcd() throws {
        let (etcd, hostA, hostB) = try masterAndContender()
        defer { etcd.stop() }
        #expect(hostA.guardian.isMaster)

        // Three TTLs of renewals on the real clock: still master, renewed about every TTL/3.
        hostB.want()
        LiveLoop.run([hostA, hostB], seconds: 6)
        #expect(hostA.guardian.isMaster)
        #expect(hostA.count(of: isRevoke) == 0)
        #expect(hostA.count(of: isKeepAlive) >= 7)  // 9 at TTL/3
        #expect(!hostB.guardian.isMaster)
        #expect(hostB.guardian.holder?.value == "192.0.2.1 hostA")

        // Planned hand-over: A revokes first; B, told by A's leaving advert, takes it at once.
        hostA.stopWanting()
        LiveLoop.run([hostA, hostB], seconds: 2) { hostA.count(of: { $0 == .released }) > 0 }
        let released = try #require(hostA.firstTime(of: { $0 == .released }))
        hostB.want()
        LiveLoop.run([hostA, hostB], seconds: 2) { hostB.guardian.isMaster }
        let taken = try #require(hostB.firstTime(of: isGrant))
        #expect(taken.duration(since: released) < .milliseconds(200))
    }

    @Test func aMasterCutOffFromEtcdLeavesBeforeAnotherHostCanTakeTheKey() throws {
        let (etcd, hostA, hostB) = try masterAndContender()
        defer { etcd.stop() }
        try #require(hostA.guardian.isMaster)
        LiveLoop.run([hostA, hostB], seconds: 1)

        // etcd stops answering A (frozen), A's deadline passes.
        etcd.freeze()
        LiveLoop.run([hostA, hostB], seconds: 3) { !hostA.guardian.isMaster }
        #expect(!hostA.guardian.isMaster)
        #expect(hostA.history.contains { $0.action == .revokeMastership(reason: .leaseLost) })
        let lost = try #require(hostA.firstTime(of: isRevoke))

        // etcd comes back for B only (A gave up wanting meanwhile, as CARP would make it).
        hostA.stopWanting()
        etcd.thaw()
        hostB.want()
        LiveLoop.run([hostA, hostB], seconds: 6) { hostB.guardian.isMaster }
        #expect(hostB.guardian.isMaster)
        let taken = try #require(hostB.firstTime(of: isGrant))
        #expect(lost < taken)
    }

    @Test func aClientCertificateIsRequiredAndAccepted() throws {
        let pki = try EtcdServer.temporaryDirectory()
        defer { _ = try? EtcdServer.run(["/bin/rm", "-rf", pki]) }
        try makeCertificates(in: pki)
        let etcd = try EtcdServer(tls: ("\(pki)/server.pem", "\(pki)/server.key", "\(pki)/ca.pem"))
        defer { etcd.stop() }
        let withCertificate = EtcdHTTPClient.TLS(
            caFile: "\(pki)/ca.pem", certificateFile: "\(pki)/client.pem", keyFile: "\(pki)/client.key")
        try waitUntilServing(etcd.clientURL, tls: withCertificate)

        let host = try GuardRunner(value: "192.0.2.1 hostA", ttl: 2, endpoints: [etcd.clientURL], tls: withCertificate)
        host.want()
        LiveLoop.run([host], seconds: 3) { host.guardian.isMaster }
        #expect(host.guardian.isMaster)

        let anonymous = try EtcdHTTPClient(tls: .init(caFile: "\(pki)/ca.pem"))
        try anonymous.start(
            .init(
                id: 1, url: etcd.clientURL + "/v3/lease/grant", body: Array(#"{"TTL":"2"}"#.utf8), timeout: .seconds(2)),
            at: PollLoop.now())
        let refused = PollLoop.run(anonymous, limit: 3) { !$0.isEmpty }
        #expect(refused.count == 1)
        #expect((try? refused.first?.result.get()) == nil)

        let untrusting = try EtcdHTTPClient(tls: .init(caFile: "\(pki)/client.pem"))
        try untrusting.start(
            .init(
                id: 1, url: etcd.clientURL + "/v3/lease/grant", body: Array(#"{"TTL":"2"}"#.utf8), timeout: .seconds(2)),
            at: PollLoop.now())
        let unverified = PollLoop.run(untrusting, limit: 3) { !$0.isEmpty }
        guard case .failure(.transfer(let code, _)) = unverified.first?.result else {
            Issue.record("a server certificate from an unknown CA was accepted: \(unverified)")
            return
        }
        #expect(code == 60)  // CURLE_PEER_FAILED_VERIFICATION
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
    private func makeCertificates(in directory: String) throws {
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem
            printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > server.ext
            openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout server.key -out server.csr
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext -out server.pem
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl req -newkey rsa:2048 -nodes -subj /CN=carp -keyout client.key -out client.csr
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile client.ext -out client.pem
            """
        try EtcdServer.run(["/bin/sh", "-c", script], log: directory + "/openssl.log")
    }
}
