import CARPCore
import Glibc
import Logging

/// One running instance: the poll loop that feeds packets, signals, script exits and the
/// clock to the ``CARPStateMachine`` and carries out the actions it returns.
public final class CARPDaemon {
    public enum ExitStatus: Int32 {
        case success = 0
        /// Bad command line or configuration.
        case invalidSettings = 1
        /// Something needed at start-up could not be opened.
        case startupFailed = 2
        /// The interface disappeared or the capture failed while running.
        case runtimeFailure = 3
    }

    private let settings: Settings
    private let interfaceName: String
    private let logger: Logger
    private let logOutput: LogOutput
    private var machine: CARPStateMachine
    private let codec: AdvertisementCodec
    private let interface: NetworkInterface
    private let capture: PacketCapture
    private let signals: SignalSource
    private let scripts: ScriptRunner
    private var statistics = Statistics()
    private var random = SystemRandomNumberGenerator()
    private var dropWarnings = WarningRateLimiter<DropReason>(interval: CARPDaemon.dropWarningInterval)
    private let pidFile: PidFile?
    private let stateFile: StateFile?
    private let unicast: UnicastSender?
    private var healthChecker: HealthChecker?

    /// Signals that end the process after the down script, with `--shutdown` (ucarp's list).
    static let terminationSignals: [CInt] = [SIGINT, SIGQUIT, SIGTERM, SIGHUP]
    /// The longest the loop sleeps while the carrier must be watched.
    static let carrierCheckInterval = MonotonicDuration.seconds(1)
    /// At most one warning per kind of bad packet in this span; the rest are counted.
    static let dropWarningInterval = MonotonicDuration.seconds(30)

    /// Opens the interface, the capture and the signal descriptor; every start-up failure
    /// is thrown here, before daemonizing.
    public init(settings: Settings, logger: Logger, logOutput: LogOutput) throws(DaemonError) {
        self.settings = settings
        self.logger = logger
        self.logOutput = logOutput
        // First, so that a second instance is refused before it touches anything.
        pidFile = try settings.pidFile.map { path throws(DaemonError) in try PidFile(path: path) }
        guard let name = settings.interface ?? PacketCapture.defaultDevice() else { throw .noInterface }
        if settings.interface == nil {
            logger.info("Using [\(name)] as a network interface")
        }
        interfaceName = name
        interface = try NetworkInterface(name: name)
        logger.info("Local advertised ethernet address is [\(interface.mac.macDescription)]")
        capture = try PacketCapture(
            interface: name,
            filter: PacketCapture.filter(
                vhid: settings.vhid, sourceAddress: settings.sourceAddress, unicast: !settings.peers.isEmpty))
        if settings.peers.isEmpty {
            unicast = nil
            if !settings.noMulticast { try interface.join(group: settings.group) }
        } else {
            unicast = try UnicastSender(sourceAddress: settings.sourceAddress, peers: settings.peers)
            logger.info("Unicast advertisements to \(settings.peers.map(\.description).joined(separator: ", "))")
        }
        stateFile = settings.stateFile.map { StateFile(path: $0) }
        // Termination signals are always ours: with --shutdown to run the down script, without
        // it to remove the pid file before dying of the signal as ucarp would.
        signals = try SignalSource(signals: [SIGUSR1, SIGUSR2, SIGCHLD] + Self.terminationSignals)
        scripts = ScriptRunner(logger: logger, timeout: settings.scriptTimeout)
        var codec = AdvertisementCodec(
            vhid: settings.vhid, sourceAddress: settings.sourceAddress, group: settings.group,
            broadcast: settings.noMulticast,
            authenticator: Authenticator(
                password: settings.password, vhid: settings.vhid, virtualAddress: settings.virtualAddress))
        codec.peers = settings.peers
        self.codec = codec
        machine = CARPStateMachine(
            configuration: .init(
                vhid: settings.vhid, advbase: settings.advbase, advskew: settings.advskew,
                deadRatio: settings.deadRatio,
                preempt: settings.preempt, neutral: settings.neutral, sourceAddress: settings.sourceAddress,
                initialCounter: UInt64.random(in: .min ... .max, using: &random),
                healthChecked: settings.check != nil))
        if settings.upscript == nil { logger.warning("Warning: no script called when going up") }
        if settings.downscript == nil { logger.warning("Warning: no script called when going down") }
    }

    /// Detaches from the terminal (`--daemonize`).
    public func daemonize() throws(DaemonError) {
        try Daemonizer.detach()
        logOutput.terminal = .none
    }

    /// Runs until a termination signal (with `--shutdown`) or a fatal error.
    public func run() -> ExitStatus {
        do {
            try pidFile?.write(pid: getpid())
        } catch {
            logger.error("\(error.description)")
            return leave(.startupFailed)
        }
        let now = MonotonicClock.now()
        if settings.check != nil {
            healthChecker = HealthChecker(settings: settings, logger: logger, now: now)
        }
        checkCarrier(at: now)
        perform(machine.start(at: now), at: now)
        var descriptors = [
            pollfd(fd: capture.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let timeout = pollTimeout(at: MonotonicClock.now())
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 && errno != EINTR {
                logger.error("exiting: poll() error: \(String(cString: strerror(errno)))")
                return leave(.runtimeFailure)
            }
            let now = MonotonicClock.now()
            if descriptors[1].revents != 0, let status = handleSignals(at: now) {
                return status
            }
            if descriptors[0].revents != 0 {
                drainCapture(at: now)
            }
            if let status = checkCarrier(at: now) {
                return status
            }
            if let deadline = machine.nextDeadline, now >= deadline {
                perform(machine.deadlinePassed(at: now), at: now)
            }
            scripts.enforceTimeout(at: now)
            if let verdict = healthChecker?.tick(at: now) {
                perform(machine.healthChanged(healthy: verdict, at: now), at: now)
            }
        }
    }

    // MARK: Loop steps

    private func pollTimeout(at now: MonotonicInstant) -> CInt {
        var wait = settings.ignoreInterfaceState ? nil : Self.carrierCheckInterval
        for deadline in [machine.nextDeadline, scripts.nextDeadline, healthChecker?.nextDeadline].compactMap({ $0 }) {
            let untilDeadline = deadline.duration(since: now)
            wait = wait.map { min($0, untilDeadline) } ?? untilDeadline
        }
        guard let wait else { return -1 }
        return CInt(min(wait.millisecondsRoundedUp, UInt64(CInt.max)))
    }

    private func handleSignals(at now: MonotonicInstant) -> ExitStatus? {
        for signal in signals.pending() {
            switch signal {
            case SIGUSR1:
                let role = machine.state == .initial ? "BACKUP" : machine.state.rawValue
                logger.info("\(role) on \(interfaceName) id \(settings.vhid)")
                logger.info("Counters: \(statistics.summary)")
            case SIGUSR2:
                perform(machine.stepDown(at: now), at: now)
            case SIGCHLD:
                scripts.reap()
                if let verdict = healthChecker?.reap() {
                    perform(machine.healthChanged(healthy: verdict, at: now), at: now)
                }
            default:
                logger.debug("Caught signal \(signal): leaving")
                guard settings.shutdown else { dieOfSignal(signal) }
                return leave(.success)
            }
        }
        return nil
    }

    private func drainCapture(at now: MonotonicInstant) {
        while true {
            switch capture.next() {
            case .none:
                return
            case .error(let message):
                // Linux reports a downed interface once as an error on the socket.
                logger.debug("Capture on [\(interfaceName)]: \(message)")
                return
            case .frame(let bytes):
                handle(frame: bytes, at: now)
            }
        }
    }

    private func handle(frame: UnsafeBufferPointer<UInt8>, at now: MonotonicInstant) {
        switch codec.decode(frame: frame) {
        case .ignored:
            break
        case .dropped(let error):
            statistics.countDrop(error.reason)
            guard let held = dropWarnings.admit(error.reason, at: now) else { break }
            let message =
                held == 0
                ? error.description
                : "\(error.description) (and \(held) more like it not logged since the last)"
            if error.isWarning {
                logger.warning("\(message)")
            } else {
                logger.debug("\(message)")
            }
        case .accepted(let advert):
            statistics.advertisementsReceived += 1
            logger.debug("Advertisement from [\(advert.source)]: advbase \(advert.advbase) advskew \(advert.advskew)")
            perform(machine.received(advert, at: now), at: now)
        }
    }

    /// ucarp's `IFF_RUNNING` check: without carrier an instance is BACKUP and silent.
    @discardableResult
    private func checkCarrier(at now: MonotonicInstant) -> ExitStatus? {
        switch interface.linkState() {
        case .running:
            if machine.carrierDown {
                logger.info("Interface [\(interfaceName)] has its carrier back")
                perform(machine.carrierRestored(at: now), at: now)
            }
        case .noCarrier:
            guard !settings.ignoreInterfaceState, !machine.carrierDown else { break }
            logger.warning("Interface [\(interfaceName)] is down or has no carrier: staying BACKUP until it is back")
            perform(machine.carrierLost(at: now), at: now)
        case .missing(let errno):
            logger.error("exiting: interface [\(interfaceName)] is gone: \(errno.description)")
            return leave(.runtimeFailure)
        }
        return nil
    }

    // MARK: Actions

    private func perform(_ actions: [CARPStateMachine.Action], at now: MonotonicInstant) {
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
                let failure: String?
                if let unicast {
                    failure = unicast.send(codec.header(advbase: advbase, advskew: advskew, counter: counter))
                } else {
                    failure = capture.send(
                        codec.frame(
                            advbase: advbase, advskew: advskew, counter: counter,
                            ipIdentification: UInt16.random(in: .min ... .max, using: &random)))
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
                if let failure = capture.send(frame) {
                    logger.error("write() in garp: \(failure)")
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
    private var scriptArguments: [String] {
        [interfaceName, settings.virtualAddressArgument] + (settings.xparam.map { [$0] } ?? [])
    }

    /// What the scripts find in their environment besides the daemon's own.
    private func scriptEnvironment(
        from: CARPStateMachine.State, to: CARPStateMachine.State, reason: CARPStateMachine.TransitionReason
    ) -> [(String, String)] {
        [
            ("CARP_STATE", to.rawValue), ("CARP_PREVIOUS_STATE", from.rawValue), ("CARP_REASON", reason.rawValue),
            ("CARP_VHID", "\(settings.vhid)"), ("CARP_INTERFACE", interfaceName),
            ("CARP_VIRTUAL_ADDRESS", settings.virtualAddressArgument),
            ("CARP_SOURCE_ADDRESS", settings.sourceAddress.description),
        ] + (settings.xparam.map { [("CARP_XPARAM", $0)] } ?? [])
    }

    private func recordState(_ state: String, previous: String, reason: String) {
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
    private func leave(_ status: ExitStatus) -> ExitStatus {
        if settings.shutdown {
            perform(machine.shutdown(at: MonotonicClock.now()), at: MonotonicClock.now())
        }
        scripts.waitForAll()
        cleanUp()
        return status
    }

    private func cleanUp() {
        healthChecker?.stop()
        recordState("STOPPED", previous: machine.state.rawValue, reason: "exit")
        pidFile?.remove()
    }

    /// Without `--shutdown` a termination signal ends the process as it ends ucarp: no script,
    /// killed by the signal. Only our own files are tidied first.
    private func dieOfSignal(_ signal: CInt) -> Never {
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

extension CARPDaemon {
    /// Whether a network interface of this name exists, for the command line's check.
    public static func interfaceExists(_ name: String) -> Bool {
        NetworkInterface.exists(name)
    }
}
