/// A child process (a script, a health check) as the decisions name it: what to run, and how
/// it ended. The daemon's ``ChildProcesses`` spawns and reaps them.
package enum Child {
    /// A child as the instance names it, before and after it has a pid.
    package struct ID: Hashable, Sendable, CustomStringConvertible {
        package var value: UInt64
        package var description: String { "child \(value)" }

        package init(value: UInt64) {
            self.value = value
        }
    }

    /// Hands out the IDs of one instance's children, each once.
    package struct Numbering: Equatable, Sendable {
        private var last: UInt64 = 0

        package init() {}

        /// Going on from a predecessor's numbering (`ucarp --reload`): the next ID follows `last`.
        package init(last: UInt64) {
            self.last = last
        }

        /// The last ID handed out, 0 before the first.
        package var lastIssued: UInt64 { last }

        package mutating func next() -> ID {
            last += 1
            return ID(value: last)
        }
    }

    /// One environment variable.
    package struct Variable: Equatable, Sendable {
        package var name: String
        package var value: String

        package init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What to run: `path` with `arguments` after its own name, in the daemon's environment
    /// with `environment` added (or replacing variables of the same name).
    package struct Command: Equatable, Sendable {
        package var path: String
        package var arguments: [String]
        package var environment: [Variable] = []

        package init(path: String, arguments: [String], environment: [Variable] = []) {
            self.path = path
            self.arguments = arguments
            self.environment = environment
        }
    }

    /// How a child ended, decoded from `waitpid`'s status.
    package enum Status: Equatable, Sendable {
        /// `exit(code)`: 0 is success.
        case exited(Int32)
        /// Ended by this signal (a timeout's SIGKILL among others).
        case killed(signal: Int32)
        /// Someone else collected it (`ECHILD`; never in the daemon): gone, nobody knows how.
        case unknown

        /// The `WIFSIGNALED`/`WTERMSIG`/`WEXITSTATUS` reading of a status from `waitpid`
        /// without `WUNTRACED`, so a child is either exited or killed.
        package init(waitStatus status: Int32) {
            let signal = status & 0x7F
            self = signal != 0 ? .killed(signal: signal) : .exited((status >> 8) & 0xFF)
        }
    }
}
