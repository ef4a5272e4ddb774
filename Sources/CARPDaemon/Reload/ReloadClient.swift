import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import UCarpConfiguration

/// `ucarp --reload`: finds the running instances the options name by asking each control
/// socket which instance it is, asks them to reload, and prints one line for each.
///
/// Exit statuses: 0 reloaded (with `--all`: every one, or none running), 1 refused or failed
/// (the reason on stderr; the instance carries on unchanged), 2 no such instance or it could
/// not be reached.
package enum ReloadClient {
    /// How long one instance is waited for: the re-executed binary answers once it runs. A
    /// reload that moves the etcd lease waits for the new endpoints first, at most
    /// ``Instance/etcdMoveLimit`` (20 s), then for a moment clear of the deadlines (2 s).
    static let answerTimeout = MonotonicDuration.seconds(30)
    /// How long an `identify` is waited for.
    static let identifyTimeout = MonotonicDuration.seconds(2)
    /// Between two tries of an instance that said it is busy (a script or a check running).
    static let busyRetry = MonotonicDuration.milliseconds(100)

    package static func run(_ target: ReloadTarget, write: (String, Bool) -> Void) -> Int32 {
        let found: [(pid: String, identity: InstanceIdentity, path: FilePath)]
        switch instances() {
        case .failure(let failure):
            write("ucarp: --reload: cannot reach the running instances: \(failure.message)", true)
            return 2
        case .success(let all):
            found = all.filter { target.matches($0.identity) }
        }
        if found.isEmpty {
            if target.all {
                write("ucarp: --reload --all: no SwiftCARP instance is running", false)
                return 0
            }
            write("ucarp: --reload: no running instance was started with \(target.description)", true)
            return 2
        }
        var status: Int32 = 0
        for instance in found {
            let name = "pid \(instance.pid)" + (instance.identity.config.map { " (\($0))" } ?? "")
            switch reload(at: instance.path) {
            case .success(let line):
                write("ucarp: \(name): \(line)", false)
            case .failure(let failure):
                write("ucarp: \(name): \(failure.message)", true)
                status = max(status, failure.unreachable ? 2 : 1)
            }
        }
        if target.all && status == 2 { status = 1 }
        return status
    }

    struct Failure: Error {
        var message: String
        var unreachable = false
        /// The socket's name is left but no process listens on it (connect: ECONNREFUSED).
        var nobodyListens = false
    }

    /// Every instance's control socket that answers, with what it says it is, in every
    /// ``ControlDirectory`` (root's instances' and each user's); a failure only when none of
    /// them could be read.
    static func instances() -> Result<[(pid: String, identity: InstanceIdentity, path: FilePath)], Failure> {
        var found: [(pid: String, identity: InstanceIdentity, path: FilePath)] = []
        var failures: [Failure] = []
        var read = false
        for directory in ControlDirectory.all() {
            switch instances(in: directory) {
            case .success(let some):
                read = true
                found += some
            case .failure(let failure):
                failures.append(failure)
            }
        }
        if !read, let failure = failures.first { return .failure(failure) }
        return .success(found)
    }

    /// The instances whose sockets are in `directory`: none when it does not exist.
    static func instances(
        in controlDirectory: FilePath
    ) -> Result<[(pid: String, identity: InstanceIdentity, path: FilePath)], Failure> {
        guard let directory = opendir(controlDirectory.string) else {
            if errno == ENOENT { return .success([]) }
            let reason = Errno(rawValue: errno).description
            return .failure(
                Failure(
                    message: "\(controlDirectory): \(reason)"
                        + (errno == EACCES ? " (only root or the daemon's user may reload)" : "")))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".sock") { names.append(name) }
        }
        var found: [(pid: String, identity: InstanceIdentity, path: FilePath)] = []
        for name in names.sorted() {
            let path = controlDirectory.appending(name)
            // A socket left by an instance that died (or one not answering) is not an instance;
            // one nobody listens on any more (the instance was killed) is removed on the way.
            let answer: String
            switch exchange("identify", at: path, timeout: identifyTimeout) {
            case .success(let text): answer = text
            case .failure(let failure):
                if failure.nobodyListens { try? System.unlink(path) }
                continue
            }
            let pid = answer.split(separator: "\n").first { $0.hasPrefix("pid=") }.map { String($0.dropFirst(4)) }
            found.append((pid ?? String(name.dropLast(5)), InstanceIdentity(lines: answer), path))
        }
        return .success(found)
    }

    /// Asks one instance to reload, trying again while it is busy; the answer's line.
    static func reload(at path: FilePath) -> Result<String, Failure> {
        let deadline = MonotonicClock.now() + answerTimeout
        while true {
            let answer: String
            switch exchange("reload", at: path, timeout: deadline.duration(since: MonotonicClock.now())) {
            case .failure(let failure): return .failure(failure)
            case .success(let text): answer = text
            }
            let line = String(answer.split(separator: "\n").first ?? "")
            if line.hasPrefix("reloaded") { return .success(line) }
            if line.hasPrefix("busy"), MonotonicClock.now() + busyRetry < deadline {
                var pause = timespec(tv_sec: 0, tv_nsec: Int(busyRetry.nanoseconds))
                nanosleep(&pause, nil)
                continue
            }
            if line.isEmpty {
                return .failure(Failure(message: "the instance closed the connection without an answer"))
            }
            return .failure(Failure(message: line))
        }
    }

    /// Sends `request`, reads the answer until the instance closes the connection.
    static func exchange(_ request: String, at path: FilePath, timeout: MonotonicDuration) -> Result<String, Failure> {
        let socket: FileDescriptor
        do throws(DaemonError) {
            socket = try System.connectUnix(to: path)
        } catch {
            var refused = false
            if case .system(_, _, .connectionRefused) = error { refused = true }
            return .failure(
                Failure(
                    message: "cannot reach the instance: \(error.description)", unreachable: true,
                    nobodyListens: refused))
        }
        defer { System.release(socket) }
        do throws(DaemonError) {
            try System.write(Array((request + "\n").utf8), to: socket, subject: path.string)
        } catch {
            return .failure(Failure(message: "cannot reach the instance: \(error.description)", unreachable: true))
        }
        let deadline = MonotonicClock.now() + timeout
        var answer: [UInt8] = []
        while answer.count < 4096 {
            let left = deadline.duration(since: MonotonicClock.now())
            guard left.nanoseconds > 0 else {
                return .failure(Failure(message: "no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
            }
            var slot = [pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)]
            guard (try? System.poll(&slot, timeout: CInt(left.millisecondsRoundedUp), subject: path.string)) != nil
            else {
                continue
            }
            guard slot[0].revents != 0 else { continue }
            guard let bytes = try? System.read(socket, upTo: 1024, subject: path.string), !bytes.isEmpty else { break }
            answer += bytes
        }
        return .success(String(decoding: answer, as: UTF8.self))
    }
}
