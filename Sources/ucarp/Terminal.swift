import Glibc

/// Messages before the logger exists: one line on stderr, prefixed with the program name.
enum Terminal {
    static func write(_ text: String, to descriptor: CInt) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    static func fail(_ message: String, hint: Bool) {
        write("ucarp: \(message)\n" + (hint ? "Try 'ucarp --help' for the list of options.\n" : ""), to: STDERR_FILENO)
    }
}
