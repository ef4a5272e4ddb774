import Glibc
import UCarpConfiguration

/// Our own command line, and where its bytes live so that secrets can be blanked.
///
/// Normally the Swift runtime hands us `argv`. Under some preloaded libraries (libfaketime is
/// one) it sees no arguments at all; then the kernel's copy, `/proc/self/cmdline`, has them,
/// and the argument strings are found where the kernel put them: right before the first
/// environment string.
enum ProcessArguments {
    /// The arguments without the program name.
    static func current() -> [String] {
        if CommandLine.argc > 0 { return Array(CommandLine.arguments.dropFirst()) }
        return Array(kernelCopy().dropFirst().map { String(decoding: $0, as: UTF8.self) })
    }

    /// Each argument's first byte in our memory, argv[0] included; empty if not found.
    static func argumentStarts() -> [UnsafeMutablePointer<CChar>] {
        if CommandLine.argc > 0 {
            return (0..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0] }
        }
        let arguments = kernelCopy()
        let length = arguments.reduce(0) { $0 + $1.count + 1 }
        guard length > 0, let firstEnvironment = environ.pointee else { return [] }
        var cursor = firstEnvironment - length
        // Only trust the location if it holds exactly the kernel's copy.
        var starts: [UnsafeMutablePointer<CChar>] = []
        for argument in arguments {
            for (index, byte) in argument.enumerated() where UInt8(bitPattern: cursor[index]) != byte {
                return []
            }
            guard cursor[argument.count] == 0 else { return [] }
            starts.append(cursor)
            cursor += argument.count + 1
        }
        return starts
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

    /// `/proc/self/cmdline` split at its NULs.
    private static func kernelCopy() -> [[UInt8]] {
        let file = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return [] }
        defer { close(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(file, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer.prefix(count)
        }
        if bytes.last == 0 { bytes.removeLast() }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
    }
}
