import CARPCore
import EtcdGuard
import EtcdHTTP
import Glibc

/// One host's lease guard carried out over the HTTP client, as the daemon will do it: what the
/// wiring session builds into the loop, here in a test's own loop.
final class GuardRunner {
    var guardian: EtcdLeaseGuard
    let client: EtcdHTTPClient
    let endpoints: [String]
    /// Every action with the instant it was emitted.
    private(set) var history: [(at: MonotonicInstant, action: EtcdLeaseGuard.Action)] = []

    init(value: String, ttl: Int64, endpoints: [String], tls: EtcdHTTPClient.TLS? = nil) throws {
        guardian = EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/live/192.0.2.100", value: value, ttl: ttl, retryInterval: .milliseconds(500),
                endpointCount: endpoints.count))
        client = try EtcdHTTPClient(tls: tls)
        self.endpoints = endpoints
    }

    func want() { carryOut(guardian.want(at: PollLoop.now())) }
    func stopWanting() { carryOut(guardian.stopWanting(at: PollLoop.now())) }

    func carryOut(_ actions: [EtcdLeaseGuard.Action]) {
        let now = PollLoop.now()
        for action in actions {
            history.append((now, action))
            switch action {
            case .send(let request):
                let http = EtcdHTTPClient.Request(
                    id: request.id, url: endpoints[request.endpoint] + request.call.path,
                    body: EtcdGatewayCodec.body(of: request.call), authorization: request.token,
                    timeout: request.timeout)
                do {
                    try client.start(http, at: now)
                } catch {
                    carryOut(guardian.failed(requestID: request.id, reason: "\(error)", at: now))
                }
            case .cancel(let id):
                client.cancel(id: id)
            case .grantMastership, .revokeMastership, .released, .keyLookedUp, .log:
                break
            }
        }
    }

    func deliver(_ completions: [EtcdHTTPClient.Completion], at now: MonotonicInstant) {
        for completion in completions {
            switch completion.result {
            case .success(let response):
                carryOut(guardian.received(status: response.status, body: response.body, for: completion.id, at: now))
            case .failure(let error):
                carryOut(guardian.failed(requestID: completion.id, reason: "\(error)", at: now))
            }
        }
    }

    /// When the first action matching `predicate` was emitted.
    func firstTime(of predicate: (EtcdLeaseGuard.Action) -> Bool) -> MonotonicInstant? {
        history.first { predicate($0.action) }?.at
    }

    func count(of predicate: (EtcdLeaseGuard.Action) -> Bool) -> Int { history.filter { predicate($0.action) }.count }
}

/// The poll loop of several hosts at once: every client's descriptors and deadlines, every
/// guard's deadline.
enum LiveLoop {
    static func run(_ runners: [GuardRunner], seconds: Double, until done: () -> Bool = { false }) {
        let end = PollLoop.now() + .nanoseconds(UInt64(seconds * 1e9))
        while !done() {
            let start = PollLoop.now()
            guard start < end else { return }
            var fds: [pollfd] = []
            var owners: [GuardRunner] = []
            for runner in runners {
                for interest in runner.client.descriptors {
                    fds.append(pollfd(fd: interest.descriptor, events: interest.events, revents: 0))
                    owners.append(runner)
                }
            }
            let deadlines = runners.flatMap { [$0.client.nextDeadline, $0.guardian.nextDeadline] }.compactMap { $0 }
            let deadline = (deadlines + [end]).min() ?? end
            _ = poll(&fds, nfds_t(fds.count), Int32(clamping: deadline.duration(since: start).millisecondsRoundedUp))
            let now = PollLoop.now()
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                owners[index].deliver(
                    owners[index].client.socketReady(entry.fd, events: entry.revents, at: now), at: now)
            }
            for runner in runners {
                runner.deliver(runner.client.deadlinePassed(at: now), at: now)
                if let due = runner.guardian.nextDeadline, due <= now {
                    runner.carryOut(runner.guardian.deadlinePassed(at: now))
                }
            }
        }
    }
}
