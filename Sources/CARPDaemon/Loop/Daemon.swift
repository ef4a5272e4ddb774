import CARPCore
import CARPInstance
import EtcdHTTP
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// One running instance, the shell: the poll loop that feeds packets, signals, child exits, the
/// carrier and the clock to the ``Instance``, and carries out the actions it returns.
public final class Daemon {
    let settings: Settings
    let interfaceName: String
    let logger: Logger
    let logOutput: LogOutput
    /// SwiftCARP's version, for the metrics (and a restarted worker's).
    let version: String
    /// Every decision: the election, signals, carrier, scripts, checks, leaving.
    var instance: Instance
    let codec: AnyAdvertisementCodec
    /// The interface, its capture and the unicast socket: opened again together when the
    /// interface is deleted and created again (``reopenInterface()``).
    var interface: NetworkInterface
    var capture: PacketCapture
    let signals: SignalSource
    let children = ChildProcesses()
    var random = SystemRandomNumberGenerator()
    /// Taken by the ``Supervisor`` with `--daemonize`: the pid file then holds its pid.
    var pidFile: PidFile?
    let stateFile: StateFile?
    /// `--host-state`: our record, maintenance and the group; nil when the default directory
    /// cannot be used.
    var hostState: HostStateDirectory?
    /// The last error the host-state directory gave, logged once.
    var hostStateFailure: String?
    /// What the state file says now, so that a change of our demotion alone rewrites it.
    var stateFileRecord: StateFile.Record?
    let metricsFile: MetricsFile?
    var unicast: UnicastSender?
    /// With `--daemonize`: the pipe to the ``Supervisor``, for ``SupervisorStateMachine/Report``s; its
    /// reader gone (`POLLERR`) means the supervisor is.
    var supervisorLink: FileDescriptor?
    /// In the foreground: the pipe to the ``Sentinel``, told the same reports, and
    /// ``SupervisorStateMachine/Report/leaving`` before a documented end.
    var sentinelLink: FileDescriptor? { didSet { sentinelGeneration &+= 1 } }
    /// Counts the changes of ``sentinelLink``: a descriptor's number alone may be reused by
    /// the sentinel that takes the place of one that ended.
    var sentinelGeneration = 0
    /// The sentinel's pid, a child of ours; nil without one, or when a predecessor of before
    /// did not hand it over.
    var sentinelPID: pid_t?
    /// When the sentinel is replaced (``SentinelKeeper``).
    var sentinelKeeper = SentinelKeeper()
    /// Sentinels retired or killed, reaped once they have ended.
    var retiredSentinels: [pid_t] = []
    /// The role and the children as last reported: what a fresh sentinel is told.
    var reportedRole = ReportedState.initial
    var reportedChildren: [Int32] = []
    /// `--auth=strict`: the counter of the sentinel's leaving advertisement, as last told.
    var reportedLeavingCounter: UInt64?
    /// The interface's addresses and link over rtnetlink; nil if the socket could not be had.
    let routes: RouteWatcher?
    /// `--etcd`: the guard's HTTP client, made when ``run()`` starts.
    var etcdClient: EtcdHTTPClient?
    /// A reload's etcd move: the new settings its requests go to.
    var etcdMoveTarget: EtcdSettings?
    /// Set by the instance's ``Instance/Action/exit(_:)``: ``run()`` returns it.
    var exitStatus: ExitStatus?
    /// The last ``drainCapture(at:)`` stopped at its bound with frames perhaps left.
    var captureBacklog = false
    /// The frames of one ``drainCapture(at:)``, decoded; kept to reuse its storage.
    var captured: [AdvertisementOutcome] = []
    /// `ucarp --reload`: how to re-execute, and the predecessor's state to carry on from.
    package var reload: ReloadContext?
    /// The control socket `--reload` talks to; nil without a ``reload`` context.
    var control: ControlSocket?
    /// A reload put off until a deadline of the instance's is not about to pass (``reloadWhenClear(at:)``).
    var pendingReload: PendingReload?

    /// Opens the interface, the capture and the signal descriptor; every start-up failure
    /// is thrown here, before daemonizing.
    ///
    /// - Parameter version: SwiftCARP's version, which `--metrics-file` shows.
    public init(settings: Settings, logger: Logger, logOutput: LogOutput, version: String) throws(DaemonError) {
        self.version = version
        self.settings = settings
        self.logger = logger
        self.logOutput = logOutput
        // First, so that a second instance is refused before it touches anything.
        pidFile = try settings.pidFile.map { path throws(DaemonError) in try PidFile(path: FilePath(path)) }
        // libcurl is loaded only for the etcd guard; its absence is a start-up failure.
        if settings.etcd != nil {
            do {
                try EtcdHTTPClient.loadLibrary()
            } catch {
                throw .etcd(error.description)
            }
        }
        guard let name = settings.interface ?? PacketCapture.defaultDevice() else { throw .noInterface }
        if settings.interface == nil {
            logger.info("Using [\(name)] as a network interface")
        }
        interfaceName = name
        let opened = try Self.open(interface: name, settings: settings)
        (interface, capture, unicast) = (opened.interface, opened.capture, opened.unicast)
        logger.info("Local advertised ethernet address is [\(interface.mac.macDescription)]")
        if !settings.peers.isEmpty {
            logger.info("Unicast advertisements to \(settings.peers.map(\.description).joined(separator: ", "))")
        }
        stateFile = settings.stateFile.map { StateFile(path: FilePath($0)) }
        do throws(DaemonError) {
            hostState = try HostStateDirectory(
                path: FilePath(settings.hostState), interface: name, vhid: settings.vhid, group: settings.hostGroup)
        } catch {
            // Asked for (or needed by a group), it must work; the default may be left out.
            if settings.hostStateGiven || settings.hostGroup != nil { throw error }
            logger.warning(
                "No record in \(settings.hostState): \(error.description): --status and maintenance do not see this instance"
            )
        }
        do throws(DaemonError) {
            routes = try RouteWatcher()
        } catch {
            routes = nil
            logger.warning(
                "Not watching the addresses of [\(name)]: \(error.description): a vanished address stays gone")
        }
        metricsFile = settings.metricsFile.map { MetricsFile(path: FilePath($0)) }
        // Termination signals are always ours: with --shutdown to run the down script, without
        // it to remove the pid file before dying of the signal as ucarp would.
        signals = try SignalSource(signals: Instance.Signal.allCases.map(\.rawValue))
        guard
            let codec = AnyAdvertisementCodec(
                vhid: settings.vhid, sourceAddress: settings.sourceAddress, group: settings.group,
                broadcast: settings.noMulticast, peers: settings.peers,
                authenticator: Authenticator(
                    password: settings.password, vhid: settings.vhid, virtualAddresses: settings.virtualAddresses,
                    mode: settings.authentication))
        else {
            throw .familyMismatch("--mcast and every --peer must be of the family of --srcip \(settings.sourceAddress)")
        }
        self.codec = codec
        // ucarp's wire: a random first counter. Strict: one above every counter sent before.
        let initialCounter: UInt64
        var strictPeers: [StrictState.Peer] = []
        switch settings.authentication {
        case .ucarp:
            initialCounter = UInt64.random(in: .min ... .max, using: &random)
        case .strict:
            (initialCounter, strictPeers) = try StrictCounterFile.start(
                path: settings.authStatePath.map { FilePath($0) })
            let kept = settings.authStatePath.map { ", kept in \($0)" } ?? ", from the wall clock (no --auth-state)"
            logger.info("Strict authentication (--auth=strict): counter epoch \(initialCounter >> 32)\(kept)")
        }
        instance = Instance(
            settings: settings, interfaceName: name, initialCounter: initialCounter,
            version: version, hostName: settings.etcd == nil ? "" : Self.hostName(logger: logger),
            strictPeers: strictPeers)
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
            try startEtcdClient()
            if detached {
                Daemonizer.finishStartup()
                logOutput.terminal = .none
            }
            let now = MonotonicClock.now()
            readWallClock(at: now)
            if routes != nil {
                instance.addressWatchStarted(interfaceIndex: interface.index)
                // The link's news comes on the same socket: the carrier is read then.
                instance.carrierNewsWatched()
            }
            perform(instance.linkRead(interface.linkState(), at: now), at: now)
            openControlSocket()
            if let (handover, snapshot) = reload?.resume {
                resume(handover, snapshot, at: now)
            } else {
                perform(instance.started(at: now), at: now)
            }
            serviceHostState(at: now)
        } catch {
            let now = MonotonicClock.now()
            perform(instance.failed(error.description, .startupFailed, at: now), at: now)
        }
        // At fixed places: the capture, the signals, the supervisor's pipe, the rtnetlink news,
        // the sentinel's pipe (a descriptor of -1 is left out by poll).
        let (captureSlot, signalSlot, supervisorSlot, routeSlot, sentinelSlot) = (0, 1, 2, 3, 4)
        var descriptors = [
            pollfd(fd: capture.descriptor.rawValue, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.descriptor.rawValue, events: Int16(POLLIN), revents: 0),
            // Only POLLERR and POLLHUP, which poll reports unasked.
            pollfd(fd: supervisorLink?.rawValue ?? -1, events: 0, revents: 0),
            pollfd(fd: routes?.descriptor.rawValue ?? -1, events: Int16(POLLIN), revents: 0),
            // Only POLLERR, which poll reports unasked on a pipe's write end once its reader
            // is gone: the sentinel ended.
            pollfd(fd: -1, events: 0, revents: 0),
        ]
        while exitStatus == nil {
            // While the interface is gone its old capture is not read; a new one may be open.
            // (The stored property read in place: the getter `awaitsInterface`, of another
            // module, would copy the whole instance at every wake-up.)
            descriptors[captureSlot].fd = instance.interfacePresence != .present ? -1 : capture.descriptor.rawValue
            // A fresh sentinel may have taken the place of the last one.
            descriptors[sentinelSlot].fd = sentinelLink?.rawValue ?? -1
            let polledSentinel = sentinelGeneration
            // The etcd client's sockets after the fixed slots, as it wants them now, then the
            // control socket's.
            descriptors.removeSubrange(Self.firstEtcdSlot...)
            descriptors += etcdPollDescriptors()
            let firstControlSlot = descriptors.count
            control?.appendPollDescriptors(to: &descriptors)
            let timeout = pollTimeout(at: MonotonicClock.now())
            var failure: DaemonError? = nil
            do throws(DaemonError) {
                _ = try System.poll(&descriptors, timeout: timeout, subject: "the instance's descriptors")
            } catch {
                failure = error
            }
            let now = MonotonicClock.now()
            readWallClock(at: now)
            if case .system(_, _, let code) = failure {
                // Leaving still goes on (no descriptor is ready): the scripts' timeouts below,
                // their exits on SIGCHLD.
                let message = "exiting: poll() error: \(String(cString: strerror(code.rawValue)))"
                perform(instance.failed(message, .runtimeFailure, at: now), at: now)
            }
            // Before the signals: an up script's address is news here before its exit is.
            if descriptors[routeSlot].revents != 0 {
                drainRoutes(at: now)
            }
            if descriptors[signalSlot].revents != 0 {
                for number in signals.pending() {
                    guard let signal = Instance.Signal(rawValue: number) else { continue }
                    perform(instance.received(signal: signal, at: now), at: now)
                }
            }
            if descriptors[captureSlot].revents != 0 {
                drainCapture(at: now)
            }
            if descriptors[supervisorSlot].revents != 0 {
                descriptors[supervisorSlot].fd = -1
                perform(instance.supervisorLost(at: now), at: now)
            }
            // Only for the sentinel polled: a handler above may have replaced it already (a
            // write that found it gone), and the old one's error is no news of the fresh one.
            if descriptors[sentinelSlot].revents != 0, sentinelGeneration == polledSentinel {
                sentinelLost(.ended, at: now)
            }
            serviceEtcd(descriptors[Self.firstEtcdSlot..<firstControlSlot], at: now)
            serveControl(descriptors[firstControlSlot...], at: now)
            // With rtnetlink's news the carrier was read on it (drainRoutes); without, at
            // every wake-up, as ucarp does.
            if routes == nil { perform(instance.linkRead(interface.linkState(), at: now), at: now) }
            perform(instance.timePassed(at: now), at: now)
            serviceHostState(at: now)
            reloadWhenClear(at: now)
        }
        return exitStatus ?? .success
    }

    // MARK: Loop steps

    /// Until the instance's next deadline, rounded up; -1 (forever) when it has none.
    func pollTimeout(at now: MonotonicInstant) -> CInt {
        if captureBacklog { return 0 }
        // No array: this runs at every wake-up.
        var earliest = instance.wakeUpDeadline
        if let etcd = etcdClient?.nextDeadline { earliest = earliest.map { min($0, etcd) } ?? etcd }
        if let control = control?.nextDeadline { earliest = earliest.map { min($0, control) } ?? control }
        guard let deadline = earliest else { return -1 }
        return CInt(min(deadline.duration(since: now).millisecondsRoundedUp, UInt64(CInt.max)))
    }

    /// Tells the instance the wall-clock time, which only the metrics' timestamps need.
    func readWallClock(at now: MonotonicInstant) {
        guard metricsFile != nil else { return }
        let wall = System.clock(CLOCK_REALTIME)
        instance.wallClockRead(secondsSinceEpoch: Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9, at: now)
    }

    /// Reads rtnetlink's news: the addresses for the address watch, and the carrier (the
    /// link's flags by `SIOCGIFFLAGS`) on any news, as the loop reads it only so
    /// (``Instance/carrierNewsWatched()``). News lost (`ENOBUFS`) is news too.
    func drainRoutes(at now: MonotonicInstant) {
        guard let routes else { return }
        // First the link: a deleted interface takes its addresses along, no loss to repair.
        perform(instance.linkRead(interface.linkState(), at: now), at: now)
        var messages: [RouteNetlink.Message] = []
        var newsLost = false
        var datagrams = 0
        do throws(DaemonError) {
            while let more = try routes.next() {
                messages += more
                datagrams += 1
            }
        } catch {
            // Poll wakes us again for what is left.
            if case .system(_, _, .noBufferSpace) = error { newsLost = true }
            logger.warning("Reading rtnetlink on [\(interfaceName)]: \(error.description)")
        }
        // A change after the first reading whose news was read here (RTM_NEWLINK, or
        // RTM_DELLINK, which is not decoded) would not wake us again: read once more.
        if datagrams > 0 { perform(instance.linkRead(interface.linkState(), at: now), at: now) }
        perform(instance.routeChanged(messages, at: now), at: now)
        if newsLost { perform(instance.routeNewsLost(at: now), at: now) }
    }

    /// Handles at most ``framesPerWakeUp`` captured frames, then lets the timers run: a flood
    /// of frames for our vhid (bad digests, replays) never delays our adverts or a backup's
    /// takeover by more than that many frames' work. What is left is read after the timers
    /// (``captureBacklog`` makes the next poll return at once).
    func drainCapture(at now: MonotonicInstant) {
        // Decoded first, acted on once libpcap has returned: acting sends on the capture.
        captured.removeAll(keepingCapacity: true)
        let codec = codec
        let result = capture.dispatch(upTo: Self.framesPerWakeUp) { captured.append(codec.decode(frame: $0)) }
        for outcome in captured {
            perform(instance.received(outcome, at: now), at: now)
        }
        switch result {
        case .frames(let count):
            captureBacklog = count == Self.framesPerWakeUp
        case .error(let message):
            // Linux reports a downed interface once as an error on the socket.
            captureBacklog = false
            logger.debug("Capture on [\(interfaceName)]: \(message)")
        }
    }

    /// How many captured frames one wake-up handles at most (``drainCapture(at:)``): about a
    /// millisecond of work on a slow machine, and far more than a segment's peers send.
    static let framesPerWakeUp = 128
}

extension Daemon {
    /// Whether a network interface of this name exists, for the command line's check.
    public static func interfaceExists(_ name: String) -> Bool {
        NetworkInterface.exists(name)
    }
}
