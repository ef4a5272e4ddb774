import Foundation
import Testing

/// The built `ucarp` binary, run as a user would: exit status, stdout and stderr.
struct CommandLineBinaryTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `ucarp` executable next to this test bundle.
    static let binary: URL = {
        let me = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        return me.deletingLastPathComponent().appendingPathComponent("ucarp")
    }()

    func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static let valid = ["-i", "lo", "-s", "192.0.2.11", "-v", "1", "-p", "secret", "-a", "192.0.2.100"]

    @Test func helpGoesToStdoutAndExitsZero() throws {
        for arguments in [["--help"], ["-h"], [], ["--he"]] {
            let outcome = try run(arguments)
            #expect(outcome.status == 0)
            #expect(outcome.stderr.isEmpty)
            for option in [
                "--interface", "--srcip", "--mcast", "--vhid", "--pass=", "--passfile", "--preempt", "--neutral",
                "--addr", "--advbase", "--advskew", "--upscript", "--downscript", "--deadratio", "--debug",
                "--shutdown", "--daemonize", "--ignoreifstate", "--nomcast", "--facility", "--xparam",
            ] {
                #expect(outcome.stdout.contains(option), "help lacks \(option)")
            }
        }
    }

    @Test func helpNamesTheNotifyAndAnnouncementOptions() throws {
        let outcome = try run(["--help"])
        for option in ["--notify=", "--name=", "--garp-repeat=", "--garp-interval=", "--garp-refresh="] {
            #expect(outcome.stdout.contains(option), "help lacks \(option)")
        }
    }

    @Test func helpNamesTheEtcdOptions() throws {
        let outcome = try run(["--help"])
        for option in [
            "--etcd=", "--etcd-prefix=", "--etcd-lock=", "--etcd-ttl=", "--etcd-unreachable=", "--etcd-cacert=",
            "--etcd-cert=", "--etcd-key=", "--etcd-user=", "--etcd-passfile=",
        ] {
            #expect(outcome.stdout.contains(option), "help lacks \(option)")
        }
    }

    @Test func versionPrintsAndExitsZero() throws {
        let outcome = try run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("SwiftCARP"))
    }

    /// Each bad input: exit status 1, nothing on stdout, one message naming the problem.
    @Test(
        arguments: [
            (["--vhid=0"], "'0' is out of range: allowed are 1 to 255"),
            (["--vhid=256"], "'256' is out of range"),
            (["--vhid=abc"], "invalid --vhid 'abc'"),
            (["--advskew=300"], "'300' is out of range: allowed are 0 to 255"),
            (["--advskew=-1"], "invalid --advskew '-1'"),
            (["--advbase=256"], "--advbase '256' is out of range"),
            (["--advbase=0", "--advskew=0"], "--advbase and --advskew are both 0"),
            (["--deadratio=0"], "--deadratio '0' is out of range"),
            (["--pass=12345678901234567890"], "the password is 20 bytes long"),
            (["--srcip=192.0.2"], "invalid --srcip address '192.0.2'"),
            (["--addr=300.1.1.1"], "invalid --addr address '300.1.1.1'"),
            (["--mcast=192.0.2.1"], "is not a multicast group"),
            (["--passfile=/nonexistent/pass"], "cannot read passfile '/nonexistent/pass'"),
            (["--facility=bogus"], "unknown syslog facility 'bogus'"),
            (["--bogus"], "unrecognized option '--bogus'"),
            (["-q"], "invalid option -- 'q'"),
            (["stray"], "unexpected argument 'stray'"),
            (["--interface=nosuch0"], "interface 'nosuch0' does not exist"),
            (["--notify="], "--notify must not be empty"),
            (["--name="], "--name must not be empty"),
            (["--garp-repeat=0"], "--garp-repeat '0' is out of range: allowed are 1 to 255"),
            (["--garp-interval=soon"], "invalid --garp-interval 'soon'"),
            (["--garp-refresh=0.01"], "--garp-refresh '0.01' is too short: 0 (off) or at least 0.1 seconds"),
            (["--etcd=192.0.2.1:2379"], "invalid --etcd endpoint '192.0.2.1:2379'"),
            (
                ["--etcd=http://192.0.2.1:2379", "--etcd-ttl=1"],
                "--etcd-ttl '1' is out of range: allowed are 2 to 3600"
            ),
            (["--etcd=http://192.0.2.1:2379", "--etcd-cacert=/nonexistent/ca.pem"], "cannot read --etcd-cacert"),
            (["--etcd=http://192.0.2.1:2379", "--etcd-user=carp"], "--etcd-user needs --etcd-passfile"),
            (["--etcd-ttl=5"], "--etcd-ttl needs --etcd"),
        ] as [([String], String)])
    func badInputIsRefusedWithAMessage(extra: [String], message: String) throws {
        let outcome = try run(Self.valid + extra)
        #expect(outcome.status == 1, "\(extra): status \(outcome.status)")
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("ucarp: "))
        #expect(outcome.stderr.contains(message), "\(extra): \(outcome.stderr)")
    }

    @Test(
        arguments: [
            (["-i", "lo", "-v", "1", "-p", "x", "-a", "192.0.2.100"], "missing --srcip"),
            (["-i", "lo", "-s", "192.0.2.11", "-p", "x", "-a", "192.0.2.100"], "missing --vhid"),
            (["-i", "lo", "-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"], "missing --pass"),
            (["-i", "lo", "-s", "192.0.2.11", "-v", "1", "-p", "x"], "missing --addr"),
        ] as [([String], String)])
    func missingRequiredOptionsAreNamed(arguments: [String], message: String) throws {
        let outcome = try run(arguments)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    @Test func aTooLongPasswordIsNotEchoed() throws {
        let outcome = try run(Self.valid + ["--pass=correct-horse-battery-staple"])
        #expect(outcome.status == 1)
        #expect(!outcome.stderr.contains("correct-horse"))
    }
}
