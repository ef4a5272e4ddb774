import Glibc
import Testing

@testable import UCarpConfiguration

/// Input that is refused before anything runs: addresses no host can share, files that are not
/// regular files, credentials in URLs; and the warning for a password sent unencrypted.
struct UnsafeInputTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret"]

    func parse(_ arguments: [String], passfiles: [String: String] = [:]) throws(SettingsError)
        -> UCarpCommandLine.Command
    {
        let environment = UCarpCommandLine.Environment(
            read: { path throws(SettingsError) in
                guard let text = passfiles[path] else { throw .passfileUnreadable(path: path, reason: "absent") }
                return Array(text.utf8)
            })
        return try UCarpCommandLine.parse(arguments, environment: environment)
    }

    func rejection(_ arguments: [String]) -> String? {
        do {
            _ = try parse(arguments)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theBroadcastAddressIsNoVirtualAddress() {
        #expect(
            rejection(Self.required + ["-a", "255.255.255.255"])
                == "--addr '255.255.255.255' cannot be a virtual address: it is the broadcast address 255.255.255.255")
        #expect(
            rejection(Self.required + ["-a", "0.0.0.0"])
                == "--addr 0.0.0.0 is not usable: give this host's real address")
    }

    @Test func theSourceAddressIsNoVirtualAddress() {
        #expect(
            rejection(Self.required + ["-a", "192.0.2.100", "-a", "192.0.2.11"])
                == "--addr '192.0.2.11' cannot be a virtual address: it is this host's own --srcip: the virtual "
                + "address is another, shared one")
        #expect(
            rejection(["-s", "2001:db8::11", "-v", "7", "-p", "x", "-a", "2001:db8:0::11"])?
                .hasPrefix("--addr '2001:db8:0::11' cannot be a virtual address: it is this host's own --srcip") == true
        )
    }

    @Test func credentialsInAnEtcdURLAreRefusedWithoutBeingShown() {
        let message = rejection(Self.required + ["-a", "192.0.2.100", "--etcd=http://root:hunter2@192.0.2.1:2379"])
        #expect(
            message
                == "--etcd endpoint 'http://192.0.2.1:2379' holds credentials (user:password@, not shown): they would "
                + "show in ps and in logs; give --etcd-user and --etcd-passfile instead")
        #expect(message?.contains("hunter2") == false)
        #expect(
            rejection(Self.required + ["-a", "192.0.2.100", "--etcd=https://a@b@10.0.0.1"])?.contains("a@b") == false)
        // An @ in the path is no user.
        #expect(rejection(Self.required + ["-a", "192.0.2.100", "--etcd=http://10.0.0.1:2379/x@y"]) == nil)
    }

    @Test func anEtcdUserOverPlainHTTPIsWarnedOnce() throws {
        let passfiles = ["/etc/ucarp/etcd.pass": "s3cret\n"]
        let user = ["--etcd-user=carp", "--etcd-passfile=/etc/ucarp/etcd.pass"]
        let plain = try parse(
            Self.required + ["-a", "192.0.2.100", "--etcd=http://10.0.0.1:2379,http://10.0.0.2:2379"] + user,
            passfiles: passfiles)
        guard case .run(_, let warnings) = plain else { throw SettingsError.bothZero }
        #expect(warnings.filter { $0 == .etcdPasswordInClear }.count == 1)
        let tls = try parse(
            Self.required + ["-a", "192.0.2.100", "--etcd=https://10.0.0.1:2379"] + user, passfiles: passfiles)
        guard case .run(_, let tlsWarnings) = tls else { throw SettingsError.bothZero }
        #expect(!tlsWarnings.contains(.etcdPasswordInClear))
        let anonymous = try parse(Self.required + ["-a", "192.0.2.100", "--etcd=http://10.0.0.1:2379"])
        guard case .run(_, let anonymousWarnings) = anonymous else { throw SettingsError.bothZero }
        #expect(!anonymousWarnings.contains(.etcdPasswordInClear))
    }

    // MARK: Files that are not regular files, refused without blocking

    func scratchDirectory() throws -> String {
        var template = Array("/tmp/swiftcarp-unsafe-input.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SettingsError.syntax("mkdtemp failed") }
        return String(cString: made)
    }

    @Test func aFIFOPassfileIsRefusedAtOnce() throws {
        let directory = try scratchDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let fifo = directory + "/pass"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: SettingsError.passfileUnreadable(path: fifo, reason: "not a regular file (a FIFO)")) {
            _ = try SystemFiles.readPassfile(fifo)
        }
        #expect(throws: SettingsError.configurationUnreadable(path: fifo, reason: "not a regular file (a FIFO)")) {
            _ = try SystemFiles.readIfPresent(fifo)
        }
        #expect(SystemFiles.unreadable(fifo) == "not a regular file (a FIFO)")
    }

    @Test func aDeviceOrADirectoryIsNoPassfile() throws {
        #expect(throws: SettingsError.passfileUnreadable(path: "/dev/zero", reason: "not a regular file (a device)")) {
            _ = try SystemFiles.readPassfile("/dev/zero")
        }
        #expect(throws: SettingsError.passfileUnreadable(path: "/", reason: "Is a directory")) {
            _ = try SystemFiles.readPassfile("/")
        }
        #expect(SystemFiles.unreadable("/") == "Is a directory")
    }
}
