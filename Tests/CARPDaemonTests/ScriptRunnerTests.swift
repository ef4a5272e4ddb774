import Glibc
import InMemoryLogging
import Logging
import Testing

@testable import CARPDaemon

struct ScriptRunnerTests {
    let log = InMemoryLogHandler()

    /// A scratch directory with a script that appends its arguments to `calls`, after an
    /// optional delay.
    final class Scratch {
        let directory: String
        init() throws {
            var template = Array("/tmp/swiftcarp-scripts.XXXXXX".utf8CString)
            let made = try #require(mkdtemp(&template))
            directory = String(cString: made)
        }
        deinit { _ = system("rm -rf '\(directory)'") }

        func script(named name: String, delay: String = "0") throws -> String {
            let path = "\(directory)/\(name)"
            let text = "#!/bin/sh\nsleep \(delay)\necho \"\(name) $*\" >> \(directory)/calls\n"
            let file = try #require(fopen(path, "w"))
            fputs(text, file)
            fclose(file)
            chmod(path, 0o755)
            return path
        }

        var calls: [String] {
            guard let file = fopen("\(directory)/calls", "r") else { return [] }
            defer { fclose(file) }
            var lines: [String] = []
            var buffer = [CChar](repeating: 0, count: 512)
            while fgets(&buffer, 512, file) != nil {
                lines.append(
                    String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                )
            }
            return lines
        }
    }

    @Test func runsScriptsOneAtATimeInTheOrderAsked() throws {
        let scratch = try Scratch()
        let runner = ScriptRunner(logger: Logger(label: "test", factory: { _ in log }))
        runner.enqueue(.init(path: try scratch.script(named: "up", delay: "0.3"), arguments: ["eth0", "192.0.2.100"]))
        runner.enqueue(.init(path: try scratch.script(named: "down"), arguments: ["eth0", "192.0.2.100", "x"]))
        #expect(!runner.isIdle)
        runner.waitForAll()
        #expect(runner.isIdle)
        #expect(scratch.calls == ["up eth0 192.0.2.100", "down eth0 192.0.2.100 x"])
        #expect(
            log.entries.map(\.message.description).filter { $0.hasPrefix("Spawning") } == [
                "Spawning [\(scratch.directory)/up eth0 192.0.2.100]",
                "Spawning [\(scratch.directory)/down eth0 192.0.2.100 x]",
            ])
    }

    @Test func enqueueReturnsWhileTheScriptRuns() throws {
        let scratch = try Scratch()
        let runner = ScriptRunner(logger: Logger(label: "test", factory: { _ in log }))
        runner.enqueue(.init(path: try scratch.script(named: "slow", delay: "0.5"), arguments: []))
        // The caller got control back before the script could have written anything.
        #expect(scratch.calls.isEmpty)
        #expect(!runner.isIdle)
        runner.waitForAll()
        #expect(scratch.calls == ["slow "])
    }

    @Test func aScriptThatCannotRunDoesNotBlockTheNext() throws {
        let scratch = try Scratch()
        let runner = ScriptRunner(logger: Logger(label: "test", factory: { _ in log }))
        runner.enqueue(.init(path: "\(scratch.directory)/does-not-exist", arguments: []))
        runner.enqueue(.init(path: try scratch.script(named: "next"), arguments: ["a"]))
        runner.waitForAll()
        #expect(scratch.calls == ["next a"])
        #expect(
            log.entries.contains {
                $0.level == .error && $0.message.description.contains("does-not-exist: No such file or directory")
            })
    }
}
