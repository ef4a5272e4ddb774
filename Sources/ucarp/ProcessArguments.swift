import CSystemShims
import Glibc
import UCarpConfiguration

/// Our own command line, and where its bytes live so that secrets can be blanked.
///
/// The strings are the ones glibc handed to the program (`swiftcarp_argv`, captured by a
/// constructor in CSystemShims), not the Swift runtime's `CommandLine`: that one may have to
/// read `/proc/self/cmdline`, which a chroot without `/proc` lacks (every argument would be
/// lost), and under some preloaded libraries (libfaketime is one) it sees no arguments at all.
/// argv is also the memory that `ps` and `/proc/PID/cmdline` show, where passwords are blanked.
enum ProcessArguments {
    /// The arguments without the program name, as bytes: they need not be UTF-8, and a
    /// password keeps them as given (ucarp hands argv's bytes to the HMAC).
    static func current() -> [[UInt8]] {
        argumentStarts().dropFirst().map { start in
            Array(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: strlen(start)))
        }
    }

    /// argv[0] as given, for a re-execution.
    static func program() -> [UInt8] {
        guard let start = argumentStarts().first else { return Array("ucarp".utf8) }
        return Array(
            UnsafeBufferPointer(
                start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: strlen(start)))
    }

    /// Each argument's first byte in our memory, argv[0] included.
    static func argumentStarts() -> [UnsafeMutablePointer<CChar>] {
        guard let argv = swiftcarp_argv() else { return [] }
        return (0..<Int(swiftcarp_argc())).compactMap { argv[$0] }
    }

    /// Blanks the values of `--pass` in our own argv, so the password does not stay visible in
    /// `ps` or `/proc/PID/cmdline` (it is still there for the few microseconds until now).
    static func blankPasswords(of arguments: [String]) {
        let starts = argumentStarts()
        for location in UCarpCommandLine.passwordLocations(in: arguments) {
            let index = location.argument + 1  // argv[0] is the program
            guard index < starts.count else { continue }
            let value = starts[index] + location.offset
            memset(value, 0, strlen(value))
        }
    }
}
