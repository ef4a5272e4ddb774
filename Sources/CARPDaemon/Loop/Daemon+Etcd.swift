import CARPCore
import CARPInstance
import EtcdGuard
import EtcdHTTP
import Glibc
import Logging
import UCarpConfiguration

/// `--etcd`: the guard's requests over libcurl's multi interface, whose sockets and timer join
/// the poll loop after its fixed slots.
extension Daemon {
    /// The first poll slot of the HTTP client's sockets, after the capture, the signals, the
    /// supervisor's pipe and the rtnetlink socket.
    static let firstEtcdSlot = 5

    /// The HTTP client for a reload's etcd move, when `--etcd` is added (libcurl loaded then).
    func startEtcdClientForMove() throws(DaemonError) {
        guard etcdClient == nil else { return }
        do {
            etcdClient = try EtcdHTTPClient(tls: nil)
        } catch {
            throw .etcd(error.description)
        }
    }

    /// The HTTP client, made in the process that runs the loop (after `--daemonize`'s fork).
    func startEtcdClient() throws(DaemonError) {
        guard let etcd = settings.etcd, etcdClient == nil else { return }
        let tls = EtcdHTTPClient.TLS(caFile: etcd.caFile, certificateFile: etcd.certificateFile, keyFile: etcd.keyFile)
        do {
            etcdClient = try EtcdHTTPClient(tls: tls)
        } catch {
            throw .etcd(error.description)
        }
    }

    /// The guard's request, on its way; a request that cannot start fails at once.
    func sendEtcd(_ request: EtcdLeaseGuard.Request, at now: MonotonicInstant) {
        sendEtcd(request, to: settings.etcd, tls: nil, at: now)
    }

    /// A reload's etcd move's request, to the new settings' endpoints with their TLS files.
    func sendEtcdMove(_ request: EtcdLeaseGuard.Request, at now: MonotonicInstant) {
        let tls = etcdMoveTarget.map {
            EtcdHTTPClient.TLS(caFile: $0.caFile, certificateFile: $0.certificateFile, keyFile: $0.keyFile)
        }
        sendEtcd(request, to: etcdMoveTarget, tls: tls, at: now)
    }

    private func sendEtcd(
        _ request: EtcdLeaseGuard.Request, to etcd: EtcdSettings?, tls: EtcdHTTPClient.TLS?, at now: MonotonicInstant
    ) {
        guard let etcdClient, let endpoints = etcd?.endpoints, endpoints.indices.contains(request.endpoint)
        else {
            perform(instance.etcdFailed(requestID: request.id, reason: "no HTTP client", at: now), at: now)
            return
        }
        let http = EtcdHTTPClient.Request(
            id: request.id, url: endpoints[request.endpoint] + request.call.path,
            body: EtcdGatewayCodec.body(of: request.call), authorization: request.token, timeout: request.timeout,
            tls: tls)
        do {
            try etcdClient.start(http, at: now)
        } catch {
            perform(instance.etcdFailed(requestID: request.id, reason: error.description, at: now), at: now)
        }
    }

    /// The client's sockets as poll slots, from ``firstEtcdSlot`` on.
    func etcdPollDescriptors() -> [pollfd] {
        etcdClient?.descriptors.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) } ?? []
    }

    /// After poll: the client's ready sockets, then its timer; the answers go to the instance.
    func serviceEtcd(_ slots: ArraySlice<pollfd>, at now: MonotonicInstant) {
        guard let etcdClient else { return }
        var completions: [EtcdHTTPClient.Completion] = []
        for slot in slots where slot.revents != 0 {
            completions += etcdClient.socketReady(slot.fd, events: slot.revents, at: now)
        }
        completions += etcdClient.deadlinePassed(at: now)
        for completion in completions {
            switch completion.result {
            case .success(let response):
                perform(
                    instance.etcdAnswered(status: response.status, body: response.body, for: completion.id, at: now),
                    at: now)
            case .failure(let error):
                perform(instance.etcdFailed(requestID: completion.id, reason: error.description, at: now), at: now)
            }
        }
    }

    /// This host's name, for the value stored under the key; empty, and said, when the
    /// system will not tell it.
    static func hostName(logger: Logger) -> String {
        do throws(DaemonError) {
            return try System.hostName()
        } catch {
            logger.warning("\(error.description): the etcd key's value names no host")
            return ""
        }
    }
}
