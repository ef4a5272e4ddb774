import Glibc

/// What the daemon's children (scripts, health checks, notify commands) inherit of its
/// environment: everything but its secrets.
///
/// Debian's ifupdown hook runs ucarp with the stanza's options as `IF_*` variables, the password
/// among them (`IF_UCARP_PASSWORD`), and every child would inherit it. At start-up the daemon
/// removes from its own environment, so from every child's, `IF_UCARP_PASSWORD` and any variable
/// whose value is a password it holds (the CARP password, the etcd password), byte for byte.
/// Names alone are not matched otherwise: a `DB_PASSWORD` that a script needs is the operator's
/// to pass.
public enum ScriptEnvironment {
    /// Withheld whatever their value.
    static let secretNames: Set<[UInt8]> = [Array("IF_UCARP_PASSWORD".utf8)]

    /// The names of the `entries` (`NAME=value`, as bytes) to withhold: a secret name, or a
    /// value equal to one of the non-empty `secrets`.
    static func namesToWithhold(in entries: [[UInt8]], secrets: [[UInt8]]) -> [[UInt8]] {
        let secrets = secrets.filter { !$0.isEmpty }
        return entries.compactMap { entry in
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let name = Array(entry[..<equals])
            let value = Array(entry[(equals + 1)...])
            return secretNames.contains(name) || secrets.contains(value) ? name : nil
        }
    }

    /// Removes the variables ``namesToWithhold(in:secrets:)`` names from this process's
    /// environment (`unsetenv`), before any child is started; returns their names.
    @discardableResult
    public static func withholdSecrets(_ secrets: [[UInt8]]) -> [String] {
        var entries: [[UInt8]] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(
                Array(
                    UnsafeBufferPointer(
                        start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))))
            cursor += 1
        }
        let names = namesToWithhold(in: entries, secrets: secrets)
        for name in names {
            // The name's bytes as they are, UTF-8 or not.
            let cName = name.map { CChar(bitPattern: $0) } + [0]
            _ = cName.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { unsetenv($0) } }
        }
        return names.map { String(decoding: $0, as: UTF8.self) }
    }
}
