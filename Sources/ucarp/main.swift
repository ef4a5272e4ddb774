import CARPDaemon
import CARPInstance
import Glibc
import Logging
import UCarpConfiguration

/// `ucarp`: parse the command line as ucarp 1.5.2 does, then run one CARP instance.

// A re-executed instance (`ucarp --reload`) finds its predecessor's descriptors named last;
// so does a re-executed supervisor (`--daemonize`), after its worker reloaded.
// A sentinel executed by its daemon (a fresh one, after a reload or the last one's end) is
// told so last of all; it ignores the group's signals before anything else.
let (startBytes, executedSentinel) = Sentinel.take(from: ProcessArguments.current())
if executedSentinel { Sentinel.ignoreSignals() }
let (givenBytes, supervising) = SupervisorHandover.take(from: startBytes)
let (argumentBytes, handover) = ResumeHandover.take(from: givenBytes)
let arguments = argumentBytes.map { String(decoding: $0, as: UTF8.self) }
let command: UCarpCommandLine.Command
do {
    command = try UCarpCommandLine.parse(
        bytes: argumentBytes, environment: .system(interfaceExists: Daemon.interfaceExists))
} catch {
    if executedSentinel { Reexecution.cannotWatch(error.description) }
    if let handover { Reexecution.cannotCarryOn(handover, error.description, arguments: argumentBytes) }
    if let supervising { Reexecution.cannotSupervise(supervising, error.description, arguments: argumentBytes) }
    Terminal.fail(error.description, hint: error.isCommandLineError)
    // `--reload` misused: 2, as the other ways it cannot reach an instance.
    if case .reloadUsage = error { exit(2) }
    exit(ExitStatus.invalidSettings.rawValue)
}

if executedSentinel, !command.startsAnInstance || handover != nil || supervising != nil {
    Reexecution.cannotWatch("the command line no longer starts an instance")
}
// What the predecessor checked starts an instance; anything else cannot carry on.
if let handover, !command.startsAnInstance {
    Reexecution.cannotCarryOn(handover, "the command line no longer starts an instance", arguments: argumentBytes)
}
if let supervising, !command.startsAnInstance {
    Reexecution.cannotSupervise(supervising, "the command line no longer starts an instance", arguments: argumentBytes)
}

switch command {
case .help:
    Terminal.write(Usage.text, to: STDOUT_FILENO)
    exit(0)
case .version:
    Terminal.write("ucarp (SwiftCARP) \(Usage.version): CARP as ucarp 1.5.2 speaks it\n", to: STDOUT_FILENO)
    exit(0)
case .host(let hostCommand):
    switch HostCommands.run(hostCommand) {
    case .success(let text):
        Terminal.write(text, to: STDOUT_FILENO)
        exit(ExitStatus.success.rawValue)
    case .failure(let error):
        Terminal.fail(error.description, hint: false)
        exit(ExitStatus.startupFailed.rawValue)
    }
case .reload(let target):
    exit(
        ReloadClient.run(target) { line, failure in
            Terminal.write(line + "\n", to: failure ? STDERR_FILENO : STDOUT_FILENO)
        })
case .cleanUp(let settings):
    ScriptEnvironment.withholdSecrets(settings.secrets)
    let output = LogOutput(facility: settings.facility?.code, terminal: .all)
    let level: Logger.Level = settings.debug ? .debug : .info
    LoggingSystem.bootstrap { _ in UCarpLogHandler(output: output, level: level) }
    exit(
        DeathCleanup.run(settings: settings, logger: Logger(label: "ucarp"), logOutput: output, version: Usage.version)
            .rawValue)
case .run(let settings, let warnings):
    ProcessArguments.blankPasswords(of: arguments)
    let withheld = ScriptEnvironment.withholdSecrets(settings.secrets)
    let output = LogOutput(facility: settings.facility?.code, terminal: settings.daemonize ? .errors : .all)
    let level: Logger.Level = settings.debug ? .debug : .info
    LoggingSystem.bootstrap { _ in UCarpLogHandler(output: output, level: level) }
    let logger = Logger(label: "ucarp")
    if executedSentinel {
        Sentinel.carryOn(settings: settings, logger: logger, logOutput: output, version: Usage.version)
    }
    for warning in warnings {
        logger.warning("\(warning)")
    }
    if !withheld.isEmpty {
        logger.debug("not passed to scripts (they hold a password): \(withheld.joined(separator: ", "))")
    }
    // Before --daemonize moves to /: relative paths are the starting directory's.
    let startDirectory = UCarpCommandLine.Environment.system(interfaceExists: Daemon.interfaceExists).currentDirectory
    let identity = InstanceIdentity.of(arguments: arguments, settings: settings, currentDirectory: startDirectory)
    if let supervising {
        Reexecution.resumeSupervising(
            supervising, settings: settings, logger: logger, output: output, arguments: argumentBytes,
            identity: identity, startDirectory: startDirectory)
    }
    let daemon: Daemon
    var resume: (handover: ResumeHandover, snapshot: InstanceSnapshot)?
    do {
        if let handover {
            do throws(ReloadFailure) {
                resume = (handover, try handover.snapshot())
            } catch {
                Reexecution.cannotCarryOn(handover, error.message, arguments: argumentBytes)
            }
        }
        // In the foreground, the sentinel: forked before anything else runs in the process.
        let sentinel = Sentinel.link(
            for: settings, resume: resume, logger: logger, logOutput: output, version: Usage.version)
        try FileDirectory.check(settings)
        // A re-executed --daemonize worker: its supervisor holds the pid file.
        var settings = settings
        if resume?.handover.supervisor != nil { settings.pidFile = nil }
        daemon = try Daemon(settings: settings, logger: logger, logOutput: output, version: Usage.version)
        if let sentinel { daemon.attachSentinel(link: sentinel.link, pid: sentinel.pid) }
        // A re-executed instance detached already: the same process carries on.
        if settings.daemonize && resume?.snapshot.daemonized != true { try daemon.daemonize() }
    } catch {
        if let handover { Reexecution.cannotCarryOn(handover, error.description, arguments: argumentBytes) }
        logger.error("\(error.description)")
        exit((error.isInvalidSettings ? ExitStatus.invalidSettings : .startupFailed).rawValue)
    }
    daemon.reload = ReloadContext(
        program: ProcessArguments.program(), arguments: argumentBytes, identity: identity,
        startDirectory: startDirectory, resume: resume)
    daemon.resumeUnderSupervisor()
    // Detached, no one else would clean up after the instance: a supervisor does (README);
    // in the foreground with --watchdog too.
    if settings.supervised && resume == nil { daemon.runSupervised() }
    exit(daemon.run().rawValue)
}

/// The new binary of a reload cannot carry on: back to the old one with the state, or, if
/// that fails too, the client told and the process gone.
enum Reexecution {
    static func cannotCarryOn(_ handover: ResumeHandover, _ reason: String, arguments: [[UInt8]]) -> Never {
        let failure = handover.fallBack(program: ProcessArguments.program(), arguments: arguments, reason: reason)
        Terminal.fail("reload: \(failure.message)", hint: false)
        handover.fail(failure)
        exit(ExitStatus.startupFailed.rawValue)
    }

    /// An executed sentinel that cannot read its settings: it ends, and its daemon, hearing
    /// its pipe without a reader, says so and perhaps starts another (``SentinelKeeper``).
    static func cannotWatch(_ reason: String) -> Never {
        Terminal.fail("ucarp-sentinel: \(reason)", hint: false)
        exit(ExitStatus.startupFailed.rawValue)
    }

    /// A re-executed supervisor carries on watching its worker, or falls back to the old binary.
    static func resumeSupervising(
        _ supervising: SupervisorHandover, settings: Settings, logger: Logger, output: LogOutput,
        arguments: [[UInt8]], identity: InstanceIdentity, startDirectory: String?
    ) -> Never {
        let snapshot: SupervisorStateMachine.Snapshot
        let daemon: Daemon
        do throws(ReloadFailure) {
            snapshot = try supervising.snapshot()
        } catch {
            cannotSupervise(supervising, error.message, arguments: arguments)
        }
        // The predecessor's pid file, open and locked, comes across with the rest.
        var opened = settings
        opened.pidFile = nil
        do {
            daemon = try Daemon(settings: opened, logger: logger, logOutput: output, version: Usage.version)
        } catch {
            cannotSupervise(supervising, error.description, arguments: arguments)
        }
        daemon.reload = ReloadContext(
            program: ProcessArguments.program(), arguments: arguments, identity: identity,
            startDirectory: startDirectory, resume: nil)
        daemon.resumeSupervising(supervising, snapshot, pidFile: settings.pidFile)
    }

    /// The new binary cannot carry on as the supervisor: back to the old one with the state;
    /// if that fails too, the process goes, and the worker, hearing its pipe closed, leaves.
    static func cannotSupervise(_ supervising: SupervisorHandover, _ reason: String, arguments: [[UInt8]]) -> Never {
        let failure = supervising.fallBack(program: ProcessArguments.program(), arguments: arguments, reason: reason)
        Terminal.fail("supervisor re-execution: \(failure.message)", hint: false)
        exit(ExitStatus.startupFailed.rawValue)
    }
}

extension UCarpCommandLine.Command {
    fileprivate var startsAnInstance: Bool {
        if case .run = self { true } else { false }
    }
}

extension Settings {
    /// The passwords the daemon holds, which no child's environment may carry.
    fileprivate var secrets: [[UInt8]] {
        [password] + (etcd?.password.map { [Array($0.utf8)] } ?? [])
    }
}
