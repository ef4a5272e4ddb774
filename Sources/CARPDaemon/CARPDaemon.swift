import CARPCore
import Glibc
import Logging
import UCarpConfiguration

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

    let settings: Settings
    let interfaceName: String
    let logger: Logger
    let logOutput: LogOutput
    var machine: CARPStateMachine
    let codec: AdvertisementCodec
    let interface: NetworkInterface
    let capture: PacketCapture
    let signals: SignalSource
    let scripts: ScriptRunner
    var statistics = Statistics()
    var random = SystemRandomNumberGenerator()
    var dropWarnings = WarningRateLimiter<DropReason>(interval: CARPDaemon.dropWarningInterval)
    let pidFile: PidFile?
    let stateFile: StateFile?
    let unicast: UnicastSender?
    var healthChecker: HealthChecker?

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
    }

    /// Detaches from the terminal (`--daemonize`). The starting command waits until ``run()``
    /// has written the pid file, showing the errors logged meanwhile (``Daemonizer``).
    public func daemonize() throws(DaemonError) {
        try Daemonizer.detach()
        logOutput.terminal = .errors
        detached = true
    }

    private var detached = false

    /// Runs until a termination signal (with `--shutdown`) or a fatal error.
    public func run() -> ExitStatus {
        do {
            try pidFile?.write(pid: getpid())
        } catch {
            logger.error("\(error.description)")
            return leave(.startupFailed)
        }
        if detached {
            Daemonizer.finishStartup()
            logOutput.terminal = .none
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

    func pollTimeout(at now: MonotonicInstant) -> CInt {
        // No array here: this runs on every wake-up.
        var wait = settings.ignoreInterfaceState ? nil : Self.carrierCheckInterval
        func consider(_ deadline: MonotonicInstant?) {
            guard let deadline else { return }
            let untilDeadline = deadline.duration(since: now)
            wait = wait.map { min($0, untilDeadline) } ?? untilDeadline
        }
        consider(machine.nextDeadline)
        consider(scripts.nextDeadline)
        consider(healthChecker?.nextDeadline)
        guard let wait else { return -1 }
        return CInt(min(wait.millisecondsRoundedUp, UInt64(CInt.max)))
    }

    func handleSignals(at now: MonotonicInstant) -> ExitStatus? {
        for signal in signals.pending() {
            switch signal {
            case SIGUSR1:
                let role = machine.role == .initial ? "BACKUP" : machine.role.rawValue
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

    func drainCapture(at now: MonotonicInstant) {
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

    func handle(frame: UnsafeBufferPointer<UInt8>, at now: MonotonicInstant) {
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
    func checkCarrier(at now: MonotonicInstant) -> ExitStatus? {
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
}

extension CARPDaemon {
    /// Whether a network interface of this name exists, for the command line's check.
    public static func interfaceExists(_ name: String) -> Bool {
        NetworkInterface.exists(name)
    }
}
