import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--etcd` and the `--etcd-*` options, and their `ETCD_*` variables: the lease guard's settings.
@Suite struct EtcdOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]
    static let endpoint = "--etcd=http://192.0.2.1:2379"

    /// Files that exist (path to contents); every other path is missing.
    static let files: [String: String] = [
        "/etc/etcd/ca.pem": "CA", "/etc/etcd/client.pem": "CERT", "/etc/etcd/client.key": "KEY",
        "/etc/etcd/encrypted.key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n",
        "/etc/etcd/legacy.key": "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n",
        "/etc/ucarp/etcd.pass": "s3cret\nignored\n", "/etc/ucarp/empty.pass": "\n",
    ]

    static var environment: UCarpCommandLine.Environment {
        UCarpCommandLine.Environment(
            read: { path throws(SettingsError) in
                guard let text = files[path] else {
                    throw .passfileUnreadable(path: path, reason: "No such file or directory")
                }
                return Array(text.utf8)
            },
            readIfPresent: { path throws(SettingsError) in configurationFiles[path].map { Array($0.utf8) } },
            currentDirectory: "/srv",
            unreadable: { files[$0] == nil ? "No such file or directory" : nil })
    }

    static let configurationFiles: [String: String] = [
        "/etc/ucarp/vip-007.conf": """
        ETCD_ENDPOINTS="http://10.0.0.1:2379, http://10.0.0.2:2379 https://10.0.0.3:2379"
        ETCD_PREFIX=/carp
        ETCD_TTL=5
        ETCD_UNREACHABLE=keep
        ETCD_CACERT=/etc/etcd/ca.pem
        ETCD_CERT=/etc/etcd/client.pem
        ETCD_KEY=/etc/etcd/client.key
        ETCD_USER=carp
        ETCD_PASSFILE=/etc/ucarp/etcd.pass

        """,
        "/etc/ucarp/vip-008.conf": "ETCD_ENDPOINTS=http://10.0.0.1:2379\nETCD_LOCK=/locks/eight\n",
    ]

    func settings(_ extra: [String]) throws(SettingsError) -> Settings {
        guard
            case .run(let settings, _) = try UCarpCommandLine.parse(
                Self.required + extra, environment: Self.environment)
        else { throw SettingsError.syntax("not a run command") }
        return settings
    }

    func refusal(_ extra: [String]) -> String? {
        do {
            _ = try settings(extra)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func withoutEtcdThereIsNoGuard() throws {
        #expect(try settings([]).etcd == nil)
        #expect(try settings([]).etcdKey == nil)
    }

    @Test func theDefaultsAndTheKeyDerivedFromTheVHIDAndTheAddress() throws {
        let settings = try settings([Self.endpoint])
        let etcd = try #require(settings.etcd)
        #expect(etcd.endpoints == ["http://192.0.2.1:2379"])
        #expect(etcd.prefix == "/swiftcarp")
        #expect(etcd.ttl == 3)
        #expect(etcd.unreachable == .release)
        #expect(etcd.caFile == nil && etcd.user == nil && etcd.password == nil)
        #expect(settings.etcdKey == "/swiftcarp/7/192.0.2.100")
    }

    @Test func withSeveralAddressesTheKeyIsNamedAfterTheLowestIPv4OneWhateverTheOrder() throws {
        let one = try settings([Self.endpoint, "-a", "2001:db8::1", "-a", "192.0.2.9"])
        let other = try settings([Self.endpoint, "-a", "192.0.2.9", "-a", "2001:DB8:0::1"])
        #expect(one.etcdKey == "/swiftcarp/7/192.0.2.9")
        #expect(other.etcdKey == one.etcdKey)
    }

    @Test func endpointsRepeatOrComeAsAListAndEachIsKeptOnce() throws {
        let etcd = try #require(
            try settings([
                "--etcd=http://10.0.0.1:2379,https://10.0.0.2:2379/", "--etcd", "http://10.0.0.3:2379",
                "--etcd=http://10.0.0.1:2379",
            ]).etcd)
        #expect(etcd.endpoints == ["http://10.0.0.1:2379", "https://10.0.0.2:2379", "http://10.0.0.3:2379"])
    }

    @Test func thePrefixOrTheWholeLockNamesTheKey() throws {
        #expect(try settings([Self.endpoint, "--etcd-prefix=/carp/"]).etcdKey == "/carp/7/192.0.2.100")
        #expect(try settings([Self.endpoint, "--etcd-lock=/locks/vip7"]).etcdKey == "/locks/vip7")
    }

    @Test func everyOptionIsTaken() throws {
        let etcd = try #require(
            try settings([
                Self.endpoint, "--etcd-ttl=10", "--etcd-unreachable=keep", "--etcd-cacert=/etc/etcd/ca.pem",
                "--etcd-cert=/etc/etcd/client.pem", "--etcd-key=/etc/etcd/client.key", "--etcd-user=carp",
                "--etcd-passfile=/etc/ucarp/etcd.pass",
            ]).etcd)
        #expect(etcd.ttl == 10)
        #expect(etcd.unreachable == .keep)
        #expect(etcd.caFile == "/etc/etcd/ca.pem")
        #expect(etcd.certificateFile == "/etc/etcd/client.pem")
        #expect(etcd.keyFile == "/etc/etcd/client.key")
        #expect(etcd.user == "carp")
        #expect(etcd.password == "s3cret")
        #expect(etcd.passfile == "/etc/ucarp/etcd.pass")
    }

    @Test func relativeCertificatePathsBecomeAbsolute() throws {
        var files = Self.files
        files["ca.pem"] = "CA"
        var environment = Self.environment
        environment.unreadable = { files[$0] == nil ? "No such file or directory" : nil }
        guard
            case .run(let settings, _) = try UCarpCommandLine.parse(
                Self.required + [Self.endpoint, "--etcd-cacert=ca.pem"], environment: environment)
        else { throw SettingsError.syntax("not a run command") }
        #expect(settings.etcd?.caFile == "/srv/ca.pem")
    }

    @Test func theVariablesOfAConfigurationFile() throws {
        let settings = try settings(["--config=/etc/ucarp/vip-007.conf"])
        let etcd = try #require(settings.etcd)
        #expect(etcd.endpoints == ["http://10.0.0.1:2379", "http://10.0.0.2:2379", "https://10.0.0.3:2379"])
        #expect(settings.etcdKey == "/carp/7/192.0.2.100")
        #expect(etcd.ttl == 5)
        #expect(etcd.unreachable == .keep)
        #expect(etcd.caFile == "/etc/etcd/ca.pem")
        #expect(etcd.certificateFile == "/etc/etcd/client.pem")
        #expect(etcd.keyFile == "/etc/etcd/client.key")
        #expect(etcd.user == "carp")
        #expect(etcd.password == "s3cret")
        #expect(try self.settings(["--config=/etc/ucarp/vip-008.conf"]).etcdKey == "/locks/eight")
    }

    @Test(arguments: [
        "192.0.2.1:2379", "ftp://192.0.2.1", "http://", "http://:2379", "http://a b", "", "unix:///run/etcd.sock",
    ])
    func anEndpointThatIsNotAnHTTPURLIsRefused(endpoint: String) {
        #expect(refusal(["--etcd=\(endpoint)"])?.hasPrefix("invalid --etcd endpoint") == true)
    }

    @Test func anEmptyItemOfTheListIsRefused() {
        #expect(refusal(["--etcd=http://10.0.0.1:2379,"]) == Self.endpointMessage(""))
    }

    static func endpointMessage(_ value: String) -> String {
        "invalid --etcd endpoint '\(value)': expected an http:// or https:// URL such as http://192.0.2.1:2379"
    }

    @Test func aTTLBelowTwoOrNotANumberIsRefused() {
        #expect(refusal([Self.endpoint, "--etcd-ttl=1"]) == "--etcd-ttl '1' is out of range: allowed are 2 to 3600")
        #expect(refusal([Self.endpoint, "--etcd-ttl=0"]) == "--etcd-ttl '0' is out of range: allowed are 2 to 3600")
        #expect(
            refusal([Self.endpoint, "--etcd-ttl=3s"])
                == "invalid --etcd-ttl '3s': expected a whole number from 2 to 3600")
        #expect(refusal([Self.endpoint, "--etcd-ttl=2"]) == nil)
    }

    @Test func anUnknownPolicyIsRefused() {
        #expect(
            refusal([Self.endpoint, "--etcd-unreachable=stay"])
                == "invalid --etcd-unreachable 'stay': expected release or keep")
    }

    @Test func aKeyOrPrefixMustBeAbsolute() {
        #expect(refusal([Self.endpoint, "--etcd-prefix=carp"]) == "--etcd-prefix 'carp' must start with /")
        #expect(refusal([Self.endpoint, "--etcd-lock=lock"]) == "--etcd-lock 'lock' must start with /")
    }

    @Test(arguments: ["--etcd-cacert", "--etcd-cert", "--etcd-key"])
    func aMissingCertificateOrKeyIsRefused(option: String) {
        let pair =
            option == "--etcd-cert"
            ? ["--etcd-key=/etc/etcd/client.key"] : option == "--etcd-key" ? ["--etcd-cert=/etc/etcd/client.pem"] : []
        #expect(
            refusal([Self.endpoint, "\(option)=/etc/etcd/missing.pem"] + pair)
                == "cannot read \(option) '/etc/etcd/missing.pem': No such file or directory")
    }

    @Test(arguments: ["/etc/etcd/encrypted.key", "/etc/etcd/legacy.key"])
    func anEncryptedKeyIsRefused(path: String) {
        #expect(
            refusal([Self.endpoint, "--etcd-cert=/etc/etcd/client.pem", "--etcd-key=\(path)"])
                == "--etcd-key '\(path)' is encrypted: give it unencrypted (openssl pkey -in KEY -out PLAIN), readable by root only"
        )
    }

    @Test func aMissingOrEmptyPassfileIsRefused() {
        #expect(
            refusal([Self.endpoint, "--etcd-user=carp", "--etcd-passfile=/etc/ucarp/none.pass"])
                == "cannot read --etcd-passfile '/etc/ucarp/none.pass': No such file or directory")
        #expect(
            refusal([Self.endpoint, "--etcd-user=carp", "--etcd-passfile=/etc/ucarp/empty.pass"])
                == "--etcd-passfile '/etc/ucarp/empty.pass' is empty: its first line is the etcd password")
    }

    @Test func aCertificateNeedsItsKeyAndAUserAPassfile() {
        #expect(refusal([Self.endpoint, "--etcd-cert=/etc/etcd/client.pem"]) == "--etcd-cert needs --etcd-key")
        #expect(refusal([Self.endpoint, "--etcd-key=/etc/etcd/client.key"]) == "--etcd-key needs --etcd-cert")
        #expect(refusal([Self.endpoint, "--etcd-user=carp"]) == "--etcd-user needs --etcd-passfile")
        #expect(
            refusal([Self.endpoint, "--etcd-passfile=/etc/ucarp/etcd.pass"]) == "--etcd-passfile needs --etcd-user")
    }

    @Test(arguments: [
        "--etcd-prefix=/p", "--etcd-lock=/k", "--etcd-ttl=3", "--etcd-unreachable=keep",
        "--etcd-cacert=/etc/etcd/ca.pem", "--etcd-user=carp",
    ])
    func anEtcdOptionWithoutEtcdIsRefused(option: String) {
        let name = String(option.prefix { $0 != "=" })
        #expect(refusal([option]) == "\(name) needs --etcd: name the etcd endpoints")
    }

    @Test func theErrorsAreTheCommandLinesButForUnreadableFiles() {
        #expect(SettingsError.etcdEndpoint("x").isCommandLineError)
        #expect(SettingsError.etcdWithoutEndpoint(option: "--etcd-ttl").isCommandLineError)
        #expect(
            !SettingsError.etcdFileUnreadable(option: "--etcd-key", path: "/k", reason: "EACCES").isCommandLineError)
    }
}
