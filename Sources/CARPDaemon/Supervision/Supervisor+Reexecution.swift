import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// After its worker reloaded (`ucarp --reload`), the supervisor executes the binary on disk
/// in place too: the same pid (the pid file's), its state and the worker's pipe handed across
/// (``SupervisorHandover``), so that a package upgrade leaves no process on the old binary.
extension Supervisor {
    /// Hands the state over and executes the binary on disk; returns only if that failed,
    /// everything as it was, the old binary carrying on.
    func reexecute() {
        guard let context = first.reload, let executable = context.executable, let reports,
            let snapshot = supervision.snapshot(pending: buffer)
        else {
            logger.warning("The worker reloaded, the supervisor cannot: the binary on disk is unknown")
            return
        }
        logger.info("The worker reloaded: the supervisor executes \(executable)")
        let failure = System.reexecute(
            state: snapshot.encoded, named: "swiftcarp-supervisor", subject: "the supervisor's state",
            inheriting: [reports] + (pidFile.map { [$0.descriptor] } ?? []), program: executable,
            startDirectory: first.settings.daemonize ? context.startDirectory : nil
        ) { state, oldProgram in
            let handover = SupervisorHandover(
                state: state, reports: reports, pidFile: pidFile?.descriptor, oldProgram: oldProgram)
            return [context.program] + context.arguments + handover.arguments
        }
        switch failure {
        case .executing(let errno):
            logger.error("The supervisor cannot execute \(executable): \(errno.description); the old binary carries on")
        case .preparing(let error):
            logger.error("The supervisor cannot re-execute: \(error.description); the old binary carries on")
        }
    }
}

extension Daemon {
    /// A re-executed supervisor (``SupervisorHandover``): carries on watching the worker, with
    /// this instance (opened afresh, never run) for what it does after a death.
    /// - Parameter pidFile: `--pidfile`, whose file the predecessor handed across open and locked.
    package func resumeSupervising(
        _ handover: SupervisorHandover, _ snapshot: SupervisorStateMachine.Snapshot, pidFile: String?
    ) -> Never {
        System.release(handover.state)
        System.release(handover.oldProgram)
        if settings.daemonize {
            _ = chdir("/")
            logOutput.terminal = .none
        }
        if let reason = handover.fallbackReason {
            logger.error("The supervisor's re-execution failed, the old binary carries on: \(reason)")
        }
        Supervisor(resuming: self, handover: handover, snapshot: snapshot, pidFile: pidFile).run()
    }
}
