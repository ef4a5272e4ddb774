import CARPInstance
import Glibc
import SystemPackage

/// Re-executing in place, for a reloading worker (``ResumeHandover``) and its supervisor
/// (``SupervisorHandover``) alike.
extension System {
    /// Why a re-execution returned: a step before `execve` failed, or `execve` itself did.
    enum ReexecutionFailure {
        case preparing(DaemonError)
        case executing(Errno)
    }

    /// Executes `program` in place: `state` written to a memfd named `name` (`subject` says
    /// what it is in an error writing it), `/proc/self/exe` held open
    /// (the old program, to fall back to), the close-on-exec flag of `inherited` cleared, and
    /// `argv` given the memfd and the old program to name. `startDirectory`, for a process
    /// detached to / (`--daemonize`): the program starts there, where the relative paths of
    /// its arguments were read. Returns only if a step failed, with everything put back as
    /// it was: the descriptors it opened closed, the flags set again, the process back in /.
    static func reexecute(
        state: String, named name: String, subject: String, inheriting inherited: [FileDescriptor], program: String,
        startDirectory: String?, argv: (_ state: FileDescriptor, _ oldProgram: FileDescriptor) -> [[UInt8]]
    ) -> ReexecutionFailure {
        var opened: [FileDescriptor] = []
        defer { for descriptor in opened { release(descriptor) } }
        do throws(DaemonError) {
            let memory = try memoryFile(named: name)
            opened.append(memory)
            try write(Array(state.utf8), to: memory, subject: subject)
            let oldProgram = try open(FilePath("/proc/self/exe"), .readOnly)
            opened.append(oldProgram)
            defer {
                for descriptor in inherited { try? setCloseOnExec(descriptor, subject: "a descriptor handed over") }
            }
            for descriptor in inherited { try clearCloseOnExec(descriptor, subject: "a descriptor handed over") }
            let arguments = argv(memory, oldProgram)
            let moved = startDirectory.map { chdir($0) == 0 } == true
            defer { if moved { _ = chdir("/") } }
            return .executing(execute(.path(program), argv: arguments))
        } catch {
            return .preparing(error)
        }
    }
}
