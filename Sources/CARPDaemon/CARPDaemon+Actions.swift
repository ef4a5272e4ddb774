import CARPCore
import Glibc
import Logging

/// Carrying out what the state machine decided, and leaving.
extension CARPDaemon {
    func perform(_ actions: [CARPStateMachine.Action], at now: MonotonicInstant) {
        for action in actions {
            switch action {
            case .changeState(let from, let to, let reason, let runScript):
                logger.warning("Switching to state: \(to.rawValue)")
                statistics.transitions += 1
                if runScript, let script = to == .master ? settings.upscript : settings.downscript {
                    scripts.enqueue(
                        .init(
                            path: script, arguments: scriptArguments,
                            environment: scriptEnvironment(from: from, to: to, reason: reason)))
                }
                recordState(to.rawValue, previous: from.rawValue, reason: reason.rawValue)
            case .sendAdvertisement(let advbase, let advskew, let counter):
                let failure: DaemonError?
                do throws(DaemonError) {
                    if let unicast {
                        try unicast.send(codec.header(advbase: advbase, advskew: advskew, counter: counter))
                    } else {
                        try capture.send(
                            codec.frame(
                                advbase: advbase, advskew: advskew, counter: counter,
                                ipIdentification: UInt16.random(in: .min ... .max, using: &random)))
                    }
                    failure = nil
                } catch {
                    failure = error
                }
                if let failure {
                    statistics.sendErrors += 1
                    logger.warning("write() has failed: \(failure)")
                } else {
                    statistics.advertisementsSent += 1
                    logger.debug("* advertisement injected *")
                }
                perform(machine.advertisementSent(succeeded: failure == nil, at: now), at: now)
            case .sendGratuitousARP:
                let frame = GratuitousARP.frame(interfaceMAC: interface.mac, virtualAddress: settings.virtualAddress)
                do throws(DaemonError) {
                    try capture.send(frame)
                } catch {
                    logger.error("write() in garp: \(error)")
                }
            case .log(let level, let message):
                switch level {
                case .debug: logger.debug("\(message)")
                case .info: logger.info("\(message)")
                case .warning: logger.warning("\(message)")
                case .error: logger.error("\(message)")
                }
            }
        }
    }

    /// `<interface> <vip> [<xparam>]`, the address as it was given, as ucarp passes them.
    var scriptArguments: [String] {
        [interfaceName, settings.virtualAddressArgument] + (settings.xparam.map { [$0] } ?? [])
    }

    /// What the scripts find in their environment besides the daemon's own.
    func scriptEnvironment(
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason
    ) -> [(String, String)] {
        [
            ("CARP_STATE", to.rawValue), ("CARP_PREVIOUS_STATE", from.rawValue), ("CARP_REASON", reason.rawValue),
            ("CARP_VHID", "\(settings.vhid)"), ("CARP_INTERFACE", interfaceName),
            ("CARP_VIRTUAL_ADDRESS", settings.virtualAddressArgument),
            ("CARP_SOURCE_ADDRESS", settings.sourceAddress.description),
        ] + (settings.xparam.map { [("CARP_XPARAM", $0)] } ?? [])
    }

    func recordState(_ state: String, previous: String, reason: String) {
        guard let stateFile else { return }
        do {
            try stateFile.write(
                .init(
                    state: state, previousState: previous, reason: reason, vhid: settings.vhid,
                    interface: interfaceName, virtualAddress: settings.virtualAddressArgument,
                    sourceAddress: settings.sourceAddress))
        } catch {
            logger.error("Unable to update the state file: \(error.description)")
        }
    }

    /// Leaving: with `--shutdown`, a master runs its down script; scripts already running or
    /// queued finish first, so the address is never left behind by an out-of-order script.
    func leave(_ status: ExitStatus) -> ExitStatus {
        if settings.shutdown {
            perform(machine.shutdown(at: MonotonicClock.now()), at: MonotonicClock.now())
        }
        scripts.waitForAll()
        cleanUp()
        return status
    }

    func cleanUp() {
        healthChecker?.stop()
        recordState("STOPPED", previous: machine.role.rawValue, reason: "exit")
        pidFile?.remove()
    }

    /// Without `--shutdown` a termination signal ends the process as it ends ucarp: no script,
    /// killed by the signal. Only our own files are tidied first.
    func dieOfSignal(_ signal: CInt) -> Never {
        cleanUp()
        Glibc.signal(signal, SIG_DFL)
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, signal)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
        raise(signal)
        _exit(128 + signal)
    }
}
