import Glibc

/// One etcd member on loopback, in a directory of its own, for the live tests: Debian's
/// `etcd-server` binary on free ports of 127.0.0.1, stopped and removed by ``stop()``.
final class EtcdServer {
    static let binary = "/usr/bin/etcd"
    /// `make etcd-test` sets it; the unit tests never start etcd.
    static let requested = getenv("SWIFTCARP_ETCD_TESTS").map { String(cString: $0) == "1" } ?? false
    static let present = access(binary, X_OK) == 0

    let directory: String
    let clientURL: String
    private(set) var pid: pid_t = 0

    /// `tls`: server certificate, key and the CA that must sign client certificates.
    init(tls: (certificate: String, key: String, ca: String)? = nil) throws {
        directory = try Self.temporaryDirectory()
        let client = try Self.freePort()
        let peer = try Self.freePort()
        let scheme = tls == nil ? "http" : "https"
        clientURL = "\(scheme)://127.0.0.1:\(client)"
        var arguments = [
            Self.binary, "--name", "live", "--data-dir", directory + "/data",
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls",
            "http://127.0.0.1:\(peer)",
            "--initial-cluster", "live=http://127.0.0.1:\(peer)", "--initial-cluster-state", "new",
        ]
        if let tls {
            arguments += [
                "--cert-file", tls.certificate, "--key-file", tls.key, "--trusted-ca-file", tls.ca,
                "--client-cert-auth",
            ]
        }
        pid = try Self.spawn(arguments, log: directory + "/etcd.log")
    }

    deinit { stop() }

    /// SIGSTOP: etcd keeps its sockets but answers nothing, as behind a partition.
    func freeze() { kill(pid, SIGSTOP) }
    func thaw() { kill(pid, SIGCONT) }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
        _ = try? Self.run(["/bin/rm", "-rf", directory])
    }

    /// Runs a command to its end; throws unless it exits 0.
    static func run(_ arguments: [String], log: String = "/dev/null") throws {
        let child = try spawn(arguments, log: log)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        guard status == 0 else { throw LiveTestError("\(arguments.joined(separator: " ")) failed (\(status))") }
    }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/swiftcarp-etcd.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw LiveTestError("mkdtemp failed") }
        return String(cString: made)
    }

    /// A port the kernel just handed out and took back; etcd binds it right after.
    private static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw LiveTestError("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], &actions, nil, argv, environ)
        guard result == 0 else { throw LiveTestError("cannot start \(arguments[0]): errno \(result)") }
        return child
    }
}

struct LiveTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
