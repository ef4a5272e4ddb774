import CARPDaemon
import CARPInstance
import Glibc
import Logging
import UCarpConfiguration

/// `ucarp`: parse the command line as ucarp 1.5.2 does, then run one CARP instance.

let argumentBytes = ProcessArguments.current()
let arguments = argumentBytes.map { String(decoding: $0, as: UTF8.self) }
let command: UCarpCommandLine.Command
do {
    command = try UCarpCommandLine.parse(
        bytes: argumentBytes, environment: .system(interfaceExists: Daemon.interfaceExists))
} catch {
    Terminal.fail(error.description, hint: error.isCommandLineError)
    exit(ExitStatus.invalidSettings.rawValue)
}

switch command {
case .help:
    Terminal.write(Usage.text, to: STDOUT_FILENO)
    exit(0)
case .version:
    Terminal.write("ucarp (SwiftCARP) \(Usage.version): CARP as ucarp 1.5.2 speaks it\n", to: STDOUT_FILENO)
    exit(0)
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
    for warning in warnings {
        logger.warning("\(warning)")
    }
    if !withheld.isEmpty {
        logger.debug("not passed to scripts (they hold a password): \(withheld.joined(separator: ", "))")
    }
    let daemon: Daemon
    do {
        try FileDirectory.check(settings)
        daemon = try Daemon(settings: settings, logger: logger, logOutput: output, version: Usage.version)
        if settings.daemonize { try daemon.daemonize() }
    } catch {
        logger.error("\(error.description)")
        exit((error.isInvalidSettings ? ExitStatus.invalidSettings : .startupFailed).rawValue)
    }
    // Detached, no one else would clean up after the instance: a supervisor does (README);
    // in the foreground with --watchdog too.
    if settings.supervised { daemon.runSupervised() }
    exit(daemon.run().rawValue)
}

extension Settings {
    /// The passwords the daemon holds, which no child's environment may carry.
    fileprivate var secrets: [[UInt8]] {
        [password] + (etcd?.password.map { [Array($0.utf8)] } ?? [])
    }
}
