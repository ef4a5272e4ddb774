import Testing

@testable import UCarpConfiguration

/// A password keeps its bytes as given, UTF-8 or not, wherever it comes from: ucarp hands the
/// bytes of argv, of a passfile's first line, to the HMAC, so a Latin-1 password must give the
/// same key here.
struct PasswordBytesTests {
    /// Seven 0xFF bytes: read as UTF-8, each would become U+FFFD (three bytes).
    static let latin1: [UInt8] = Array(repeating: 0xFF, count: 7)
    static let others = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]

    func settings(bytes arguments: [[UInt8]], files: [String: [UInt8]] = [:]) throws -> Settings {
        let environment = UCarpCommandLine.Environment(
            read: { path throws(SettingsError) in
                guard let bytes = files[path] else { throw .passfileUnreadable(path: path, reason: "absent") }
                return bytes
            },
            readIfPresent: { path throws(SettingsError) in files[path] })
        guard case .run(let settings, _) = try UCarpCommandLine.parse(bytes: arguments, environment: environment)
        else { throw SettingsError.syntax("not a run command") }
        return settings
    }

    func arguments(_ strings: [String], _ extra: [[UInt8]] = []) -> [[UInt8]] {
        strings.map { Array($0.utf8) } + extra
    }

    @Test func aLongPassOptionKeepsItsBytes() throws {
        let inline = try settings(bytes: arguments(Self.others, [Array("--pass=".utf8) + Self.latin1]))
        #expect(inline.password == Self.latin1)
        let separate = try settings(bytes: arguments(Self.others + ["--pass"], [Self.latin1]))
        #expect(separate.password == Self.latin1)
        // The last --pass wins, as in ucarp.
        let twice = try settings(
            bytes: arguments(Self.others + ["--pass=first"], [Array("--pass=".utf8) + Self.latin1]))
        #expect(twice.password == Self.latin1)
    }

    @Test func aShortPassOptionKeepsItsBytes() throws {
        let attached = try settings(bytes: arguments(Self.others, [Array("-Pp".utf8) + [0xE9, 0x74, 0xE9]]))
        #expect(attached.password == [0xE9, 0x74, 0xE9])
        #expect(attached.preempt)
        let separate = try settings(bytes: arguments(Self.others + ["-p"], [[0x41, 0xFF]]))
        #expect(separate.password == [0x41, 0xFF])
    }

    @Test func aUTF8PasswordIsItsUTF8Bytes() throws {
        let given = try settings(bytes: arguments(Self.others + ["--pass=Zébra"]))
        #expect(given.password == Array("Zébra".utf8))
    }

    @Test func nineteenLatin1BytesFitWhereTheirUTF8ReadingWouldNot() throws {
        let password = [UInt8](repeating: 0xE9, count: 19)
        #expect(try settings(bytes: arguments(Self.others, [Array("--pass=".utf8) + password])).password == password)
    }

    @Test func aConfigurationFilePasswordKeepsItsBytes() throws {
        let file =
            Array("ID=7\nBIND_INTERFACE=eth0\nSOURCE_ADDRESS=192.0.2.11\nVIP_ADDRESS=192.0.2.100\nPASSWORD='".utf8)
            + Self.latin1 + Array("'\n".utf8)
        let read = try settings(
            bytes: arguments(["--config=/etc/ucarp/vip-007.conf"]), files: ["/etc/ucarp/vip-007.conf": file])
        #expect(read.password == Self.latin1)
    }

    @Test func aPasswordInOptionsKeepsItsBytes() throws {
        let file =
            Array("ID=7\nSOURCE_ADDRESS=192.0.2.11\nVIP_ADDRESS=192.0.2.100\nOPTIONS=\"--preempt --pass=".utf8)
            + Self.latin1 + Array("\"\n".utf8)
        let read = try settings(
            bytes: arguments(["--config=/etc/ucarp/vip-007.conf"]), files: ["/etc/ucarp/vip-007.conf": file])
        #expect(read.password == Self.latin1)
        #expect(read.preempt)
    }

    @Test func aPassfileKeepsItsBytes() throws {
        let read = try settings(
            bytes: arguments(Self.others + ["--passfile=/etc/ucarp/pass"]),
            files: ["/etc/ucarp/pass": Self.latin1 + [0x0A]])
        #expect(read.password == Self.latin1)
    }
}
