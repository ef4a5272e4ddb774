import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// The daemon's children (scripts, health checks): each spawned in its own process group,
/// collected with `waitpid(WNOHANG)` by pid, so only our own children are ever waited for,
/// and killed a whole group at a time. What to run and when is ``Instance``'s to decide.
final class ChildProcesses {
    typealias ID = Child.ID
    typealias Command = Child.Command
    typealias Status = Child.Status
    typealias Variable = Child.Variable
    private struct Process {
        var pid: pid_t
        var killed = false
    }

    private var children: [Child.ID: Process] = [:]

    var isEmpty: Bool { children.isEmpty }

    /// The children not yet reaped, each the leader of its process group, in pid order.
    var pids: [Int32] { children.values.map(\.pid).sorted() }

    /// ``System/spawn(_:argv:environment:)``: a new process group, every signal unblocked and
    /// at its default disposition. Throws the spawn's error.
    func spawn(_ id: ID, _ command: Command) throws(Errno) {
        let pid = try System.spawn(
            command.path, argv: [command.path] + command.arguments,
            environment: Self.environment(adding: command.environment))
        children[id] = Process(pid: pid)
    }

    /// The pid of child `id`, nil once reaped (or never spawned).
    func pid(of id: ID) -> pid_t? { children[id]?.pid }

    /// A child a predecessor spawned (`ucarp --reload`: children survive `execve`, and are
    /// still ours to reap).
    func adopt(_ id: ID, pid: pid_t) {
        children[id] = Process(pid: pid)
    }

    /// `kill(-pid, SIGKILL)`: the child's whole process group. It is still to be reaped. A
    /// group already gone (`ESRCH`: the child ended and nothing else of it is left) needs no
    /// killing, so a failure is nothing to act on.
    func kill(_ id: ID) {
        guard let child = children[id] else { return }
        children[id]?.killed = true
        try? System.signalGroup(child.pid, SIGKILL, subject: "\(id)")
    }

    /// `kill(-pid, SIGTERM)`: asks the child's whole process group to stop. It is not counted
    /// as killed: one that ignores SIGTERM is not waited for at exit, a ``kill(_:)`` follows.
    func terminate(_ id: ID) {
        guard let child = children[id] else { return }
        try? System.signalGroup(child.pid, SIGTERM, subject: "\(id)")
    }

    /// `waitpid(pid, WNOHANG)` for each child: those that ended, with how. A child that
    /// someone else collected (`ECHILD`) has ended too, how is unknown.
    func reap() -> [(ID, Status)] {
        var ended: [(ID, Status)] = []
        for (id, child) in children {
            do throws(DaemonError) {
                guard let status = try System.waitIfEnded(child.pid, subject: "\(id)") else { continue }
                ended.append((id, Status(waitStatus: status)))
            } catch {
                ended.append((id, .unknown))
            }
            children[id] = nil
        }
        return ended.sorted { $0.0.value < $1.0.value }
    }

    /// Blocks in `waitpid` until every child killed so far is gone (at exit, so none is left
    /// a zombie); children still running by right are left alone.
    func waitForKilled() {
        for (id, child) in children where child.killed {
            // Fails only when the child is no longer ours to wait for: gone all the same.
            _ = try? System.wait(for: child.pid, subject: "\(id)")
            children[id] = nil
        }
    }

    /// The daemon's environment with `additions` set.
    static func environment(adding additions: [Variable]) -> [String] {
        let replaced = Set(additions.map(\.name))
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            let name = String(text.prefix { $0 != "=" })
            if !replaced.contains(name) { entries.append(text) }
            cursor += 1
        }
        return entries + additions.map { "\($0.name)=\($0.value)" }
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
